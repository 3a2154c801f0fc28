-- Collections (docs/dominio.md, "Collections"): the audit trail's new kinds
-- of entry (a factura's new states came with the rebuild of facturas in the
-- migration before). Atlas tells CHECK constraints apart by name only, and
-- SQLite changes a CHECK only by rebuilding the table: the rows are copied
-- as they are, and the indexes and the append-only triggers, dropped with
-- the old table, are created again.
CREATE TABLE `new_eventos_auditoria` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `entidad` text NOT NULL, `entidad_id` integer NOT NULL, `tipo` text NOT NULL, `fecha` datetime NOT NULL, `estado_anterior` text NULL, `estado_nuevo` text NULL, `request_id` text NOT NULL, `correlation_id` text NULL, `actor` text NOT NULL, `detalle` json NOT NULL, `trace_id` text NULL, `cliente_id` integer NULL, `deudor_id` integer NULL, `factura_id` integer NULL, `operacion_id` integer NULL, CONSTRAINT `eventos_auditoria_clientes_eventos` FOREIGN KEY (`cliente_id`) REFERENCES `clientes` (`id`) ON DELETE SET NULL, CONSTRAINT `eventos_auditoria_deudores_eventos` FOREIGN KEY (`deudor_id`) REFERENCES `deudores` (`id`) ON DELETE SET NULL, CONSTRAINT `eventos_auditoria_facturas_eventos` FOREIGN KEY (`factura_id`) REFERENCES `facturas` (`id`) ON DELETE SET NULL, CONSTRAINT `eventos_auditoria_operaciones_auditoria` FOREIGN KEY (`operacion_id`) REFERENCES `operaciones` (`id`) ON DELETE SET NULL, CONSTRAINT `eventos_auditoria_entidad_valida` CHECK (entidad IN ('CLIENTE', 'FACTURA', 'OPERACION', 'DEUDOR')), CONSTRAINT `eventos_auditoria_tipo_valido` CHECK (tipo IN ('CLIENTE_CREADO', 'CLIENTE_ACTUALIZADO', 'CLIENTE_ACTIVADO', 'CLIENTE_SUSPENDIDO', 'CLIENTE_BLOQUEADO', 'CLIENTE_LINEA_AJUSTADA', 'CLIENTE_CONCENTRACION_FIJADA', 'FACTURA_REGISTRADA', 'FACTURA_ACUSE_REGISTRADO', 'FACTURA_PAGADA', 'FACTURA_ANULADA', 'FACTURA_VENCIDA', 'FACTURA_PAGO_REGISTRADO', 'FACTURA_RECOMPRA_EXIGIDA', 'FACTURA_RECOMPRA_REGISTRADA', 'FACTURA_RECOMPRA_COMPENSADA', 'OPERACION_CREADA', 'OPERACION_APROBADA', 'OPERACION_RECHAZADA', 'OPERACION_DESEMBOLSADA', 'OPERACION_FINALIZADA', 'DEUDOR_CREADO', 'DEUDOR_ACTUALIZADO', 'DEUDOR_LINEA_FIJADA', 'DEUDOR_BLOQUEADO', 'DEUDOR_ACTIVADO')), CONSTRAINT `eventos_auditoria_una_entidad` CHECK ((entidad = 'CLIENTE' AND cliente_id = entidad_id AND factura_id IS NULL AND operacion_id IS NULL AND deudor_id IS NULL) OR (entidad = 'FACTURA' AND factura_id = entidad_id AND cliente_id IS NULL AND operacion_id IS NULL AND deudor_id IS NULL) OR (entidad = 'OPERACION' AND operacion_id = entidad_id AND cliente_id IS NULL AND factura_id IS NULL AND deudor_id IS NULL) OR (entidad = 'DEUDOR' AND deudor_id = entidad_id AND cliente_id IS NULL AND factura_id IS NULL AND operacion_id IS NULL)));
INSERT INTO sqlite_sequence (name, seq) VALUES ("new_eventos_auditoria", 21474836480);
INSERT INTO `new_eventos_auditoria` (`id`, `entidad`, `entidad_id`, `tipo`, `fecha`, `estado_anterior`, `estado_nuevo`, `request_id`, `correlation_id`, `actor`, `detalle`, `trace_id`, `cliente_id`, `deudor_id`, `factura_id`, `operacion_id`) SELECT `id`, `entidad`, `entidad_id`, `tipo`, `fecha`, `estado_anterior`, `estado_nuevo`, `request_id`, `correlation_id`, `actor`, `detalle`, `trace_id`, `cliente_id`, `deudor_id`, `factura_id`, `operacion_id` FROM `eventos_auditoria`;
DROP TABLE `eventos_auditoria`;
ALTER TABLE `new_eventos_auditoria` RENAME TO `eventos_auditoria`;
CREATE INDEX `eventoauditoria_cliente_id_fecha` ON `eventos_auditoria` (`cliente_id`, `fecha`);
CREATE INDEX `eventoauditoria_factura_id_fecha` ON `eventos_auditoria` (`factura_id`, `fecha`);
CREATE INDEX `eventoauditoria_deudor_id_fecha` ON `eventos_auditoria` (`deudor_id`, `fecha`);
CREATE INDEX `eventoauditoria_entidad_id_fecha` ON `eventos_auditoria` (`entidad_id`, `fecha`);
CREATE INDEX `eventoauditoria_fecha` ON `eventos_auditoria` (`fecha`);
CREATE INDEX `eventoauditoria_actor_fecha` ON `eventos_auditoria` (`actor`, `fecha`);
CREATE INDEX `eventoauditoria_request_id` ON `eventos_auditoria` (`request_id`);
CREATE INDEX `eventoauditoria_correlation_id` ON `eventos_auditoria` (`correlation_id`);
CREATE INDEX `eventoauditoria_tipo_fecha` ON `eventos_auditoria` (`tipo`, `fecha`);
CREATE TRIGGER `eventos_auditoria_sin_update` BEFORE UPDATE ON `eventos_auditoria`
BEGIN
  SELECT RAISE(ABORT, 'eventos_auditoria es de solo inserción: UPDATE no permitido');
END;
CREATE TRIGGER `eventos_auditoria_sin_delete` BEFORE DELETE ON `eventos_auditoria`
BEGIN
  SELECT RAISE(ABORT, 'eventos_auditoria es de solo inserción: DELETE no permitido');
END;
-- Payments and closes of business are append-only, like the audit trail: a
-- payment recorded is never changed or removed, and a closed business date
-- stays closed. SQLite has no TRUNCATE; a DELETE without WHERE fires the
-- delete trigger like any other.
CREATE TRIGGER `pagos_sin_update` BEFORE UPDATE ON `pagos`
BEGIN
  SELECT RAISE(ABORT, 'pagos es de solo inserción: UPDATE no permitido');
END;
CREATE TRIGGER `pagos_sin_delete` BEFORE DELETE ON `pagos`
BEGIN
  SELECT RAISE(ABORT, 'pagos es de solo inserción: DELETE no permitido');
END;
CREATE TRIGGER `cierres_sin_update` BEFORE UPDATE ON `cierres`
BEGIN
  SELECT RAISE(ABORT, 'cierres es de solo inserción: UPDATE no permitido');
END;
CREATE TRIGGER `cierres_sin_delete` BEFORE DELETE ON `cierres`
BEGIN
  SELECT RAISE(ABORT, 'cierres es de solo inserción: DELETE no permitido');
END;
