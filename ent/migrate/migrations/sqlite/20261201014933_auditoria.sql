-- Add column "correlation_id" to table: "operacion_eventos"
ALTER TABLE `operacion_eventos` ADD COLUMN `correlation_id` text NULL;
-- Create "eventos_auditoria" table
CREATE TABLE `eventos_auditoria` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `entidad` text NOT NULL, `entidad_id` integer NOT NULL, `tipo` text NOT NULL, `fecha` datetime NOT NULL, `estado_anterior` text NULL, `estado_nuevo` text NULL, `request_id` text NOT NULL, `correlation_id` text NULL, `actor` text NOT NULL, `detalle` json NOT NULL, `trace_id` text NULL, `cliente_id` integer NULL, `factura_id` integer NULL, `operacion_id` integer NULL, CONSTRAINT `eventos_auditoria_clientes_eventos` FOREIGN KEY (`cliente_id`) REFERENCES `clientes` (`id`) ON DELETE SET NULL, CONSTRAINT `eventos_auditoria_facturas_eventos` FOREIGN KEY (`factura_id`) REFERENCES `facturas` (`id`) ON DELETE SET NULL, CONSTRAINT `eventos_auditoria_operaciones_auditoria` FOREIGN KEY (`operacion_id`) REFERENCES `operaciones` (`id`) ON DELETE SET NULL, CONSTRAINT `eventos_auditoria_entidad_valida` CHECK (entidad IN ('CLIENTE', 'FACTURA', 'OPERACION')), CONSTRAINT `eventos_auditoria_tipo_valido` CHECK (tipo IN ('CLIENTE_CREADO', 'CLIENTE_ACTUALIZADO', 'CLIENTE_ACTIVADO', 'CLIENTE_SUSPENDIDO', 'CLIENTE_BLOQUEADO', 'CLIENTE_LINEA_AJUSTADA', 'FACTURA_REGISTRADA', 'FACTURA_PAGADA', 'FACTURA_ANULADA', 'FACTURA_VENCIDA', 'OPERACION_CREADA', 'OPERACION_APROBADA', 'OPERACION_RECHAZADA', 'OPERACION_DESEMBOLSADA', 'OPERACION_FINALIZADA')), CONSTRAINT `eventos_auditoria_una_entidad` CHECK ((entidad = 'CLIENTE' AND cliente_id = entidad_id AND factura_id IS NULL AND operacion_id IS NULL) OR (entidad = 'FACTURA' AND factura_id = entidad_id AND cliente_id IS NULL AND operacion_id IS NULL) OR (entidad = 'OPERACION' AND operacion_id = entidad_id AND cliente_id IS NULL AND factura_id IS NULL)));
-- Set sequence for "eventos_auditoria" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("eventos_auditoria", 21474836480);
-- Create index "eventoauditoria_cliente_id_fecha" to table: "eventos_auditoria"
CREATE INDEX `eventoauditoria_cliente_id_fecha` ON `eventos_auditoria` (`cliente_id`, `fecha`);
-- Create index "eventoauditoria_factura_id_fecha" to table: "eventos_auditoria"
CREATE INDEX `eventoauditoria_factura_id_fecha` ON `eventos_auditoria` (`factura_id`, `fecha`);
-- Create index "eventoauditoria_entidad_id_fecha" to table: "eventos_auditoria"
CREATE INDEX `eventoauditoria_entidad_id_fecha` ON `eventos_auditoria` (`entidad_id`, `fecha`);
-- Create index "eventoauditoria_fecha" to table: "eventos_auditoria"
CREATE INDEX `eventoauditoria_fecha` ON `eventos_auditoria` (`fecha`);
-- Create index "eventoauditoria_actor_fecha" to table: "eventos_auditoria"
CREATE INDEX `eventoauditoria_actor_fecha` ON `eventos_auditoria` (`actor`, `fecha`);
-- Create index "eventoauditoria_request_id" to table: "eventos_auditoria"
CREATE INDEX `eventoauditoria_request_id` ON `eventos_auditoria` (`request_id`);
-- Create index "eventoauditoria_correlation_id" to table: "eventos_auditoria"
CREATE INDEX `eventoauditoria_correlation_id` ON `eventos_auditoria` (`correlation_id`);
-- Create index "eventoauditoria_tipo_fecha" to table: "eventos_auditoria"
CREATE INDEX `eventoauditoria_tipo_fecha` ON `eventos_auditoria` (`tipo`, `fecha`);
