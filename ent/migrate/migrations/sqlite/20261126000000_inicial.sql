-- Create "clientes" table
CREATE TABLE `clientes` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `rut` text NOT NULL, `razon_social` text NOT NULL, `giro` text NULL, `direccion` text NULL, `telefono` text NULL, `email` text NOT NULL, `fecha_registro` datetime NOT NULL, `linea_credito` numeric NOT NULL, `linea_disponible` numeric NOT NULL, `estado` text NOT NULL DEFAULT ('PENDIENTE'), `motivo_estado` text NULL, `creado_en` datetime NOT NULL, `actualizado_en` datetime NOT NULL, CONSTRAINT `clientes_estado_valido` CHECK (estado IN ('PENDIENTE', 'ACTIVO', 'SUSPENDIDO', 'BLOQUEADO')), CONSTRAINT `clientes_linea_credito_no_negativa` CHECK (linea_credito >= 0), CONSTRAINT `clientes_linea_disponible_en_rango` CHECK (linea_disponible >= 0 AND linea_disponible <= linea_credito));
-- Create index "clientes_rut_key" to table: "clientes"
CREATE UNIQUE INDEX `clientes_rut_key` ON `clientes` (`rut`);
-- Create index "cliente_estado" to table: "clientes"
CREATE INDEX `cliente_estado` ON `clientes` (`estado`);
-- Create index "cliente_linea_credito" to table: "clientes"
CREATE INDEX `cliente_linea_credito` ON `clientes` (`linea_credito`);
-- Create index "cliente_creado_en" to table: "clientes"
CREATE INDEX `cliente_creado_en` ON `clientes` (`creado_en`);
-- Create "facturas" table
CREATE TABLE `facturas` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `numero_factura` text NOT NULL, `rut_deudor` text NOT NULL, `razon_social_deudor` text NOT NULL, `monto_total` numeric NOT NULL, `fecha_emision` date NOT NULL, `fecha_vencimiento` date NOT NULL, `estado` text NOT NULL DEFAULT ('DISPONIBLE'), `motivo_anulacion` text NULL, `creado_en` datetime NOT NULL, `actualizado_en` datetime NOT NULL, `cliente_id` integer NOT NULL, CONSTRAINT `facturas_clientes_facturas` FOREIGN KEY (`cliente_id`) REFERENCES `clientes` (`id`) ON DELETE NO ACTION, CONSTRAINT `facturas_estado_valido` CHECK (estado IN ('DISPONIBLE', 'EN_PROCESO', 'CEDIDA', 'PAGADA', 'VENCIDA', 'ANULADA')), CONSTRAINT `facturas_monto_total_positivo` CHECK (monto_total > 0), CONSTRAINT `facturas_vencimiento_tras_emision` CHECK (fecha_vencimiento > fecha_emision));
-- Set sequence for "facturas" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("facturas", 4294967296);
-- Create index "factura_cliente_id_numero_factura" to table: "facturas"
CREATE UNIQUE INDEX `factura_cliente_id_numero_factura` ON `facturas` (`cliente_id`, `numero_factura`);
-- Create index "factura_cliente_id_creado_en" to table: "facturas"
CREATE INDEX `factura_cliente_id_creado_en` ON `facturas` (`cliente_id`, `creado_en`);
-- Create index "factura_estado" to table: "facturas"
CREATE INDEX `factura_estado` ON `facturas` (`estado`);
-- Create index "factura_rut_deudor" to table: "facturas"
CREATE INDEX `factura_rut_deudor` ON `facturas` (`rut_deudor`);
-- Create index "factura_fecha_emision" to table: "facturas"
CREATE INDEX `factura_fecha_emision` ON `facturas` (`fecha_emision`);
-- Create index "factura_fecha_vencimiento" to table: "facturas"
CREATE INDEX `factura_fecha_vencimiento` ON `facturas` (`fecha_vencimiento`);
-- Create index "factura_creado_en" to table: "facturas"
CREATE INDEX `factura_creado_en` ON `facturas` (`creado_en`);
-- Create "operaciones" table
CREATE TABLE `operaciones` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `fecha_solicitud` datetime NOT NULL, `fecha_aprobacion` datetime NULL, `fecha_desembolso` datetime NULL, `fecha_finalizacion` datetime NULL, `monto_total_facturas` numeric NOT NULL, `tasa_descuento` numeric NOT NULL, `dias_descuento` integer NOT NULL, `monto_descuento` numeric NOT NULL, `monto_a_desembolsar` numeric NOT NULL, `estado` text NOT NULL DEFAULT ('PENDIENTE'), `motivo_rechazo` text NULL, `creado_en` datetime NOT NULL, `actualizado_en` datetime NOT NULL, `cliente_id` integer NOT NULL, CONSTRAINT `operaciones_clientes_operaciones` FOREIGN KEY (`cliente_id`) REFERENCES `clientes` (`id`) ON DELETE NO ACTION, CONSTRAINT `operaciones_descuento_hasta_el_total` CHECK (monto_descuento <= monto_total_facturas), CONSTRAINT `operaciones_estado_valido` CHECK (estado IN ('PENDIENTE', 'APROBADA', 'RECHAZADA', 'DESEMBOLSADA', 'FINALIZADA')), CONSTRAINT `operaciones_monto_total_positivo` CHECK (monto_total_facturas > 0), CONSTRAINT `operaciones_montos_no_negativos` CHECK (monto_descuento >= 0 AND monto_a_desembolsar >= 0), CONSTRAINT `operaciones_tasa_en_rango` CHECK (tasa_descuento > 0 AND tasa_descuento <= 100));
-- Set sequence for "operaciones" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("operaciones", 8589934592);
-- Create index "operacion_cliente_id_fecha_solicitud" to table: "operaciones"
CREATE INDEX `operacion_cliente_id_fecha_solicitud` ON `operaciones` (`cliente_id`, `fecha_solicitud`);
-- Create index "operacion_estado" to table: "operaciones"
CREATE INDEX `operacion_estado` ON `operaciones` (`estado`);
-- Create index "operacion_fecha_solicitud" to table: "operaciones"
CREATE INDEX `operacion_fecha_solicitud` ON `operaciones` (`fecha_solicitud`);
-- Create "operacion_eventos" table
CREATE TABLE `operacion_eventos` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `tipo` text NOT NULL, `fecha` datetime NOT NULL, `estado_anterior` text NULL, `estado_nuevo` text NOT NULL, `request_id` text NOT NULL, `actor` text NOT NULL, `detalle` json NOT NULL, `operacion_id` integer NOT NULL, CONSTRAINT `operacion_eventos_operaciones_eventos` FOREIGN KEY (`operacion_id`) REFERENCES `operaciones` (`id`) ON DELETE NO ACTION, CONSTRAINT `operacion_eventos_tipo_valido` CHECK (tipo IN ('CREADA', 'APROBADA', 'RECHAZADA', 'DESEMBOLSADA', 'FINALIZADA')));
-- Set sequence for "operacion_eventos" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("operacion_eventos", 12884901888);
-- Create index "operacionevento_operacion_id_fecha" to table: "operacion_eventos"
CREATE INDEX `operacionevento_operacion_id_fecha` ON `operacion_eventos` (`operacion_id`, `fecha`);
-- Create index "operacionevento_tipo" to table: "operacion_eventos"
CREATE INDEX `operacionevento_tipo` ON `operacion_eventos` (`tipo`);
-- Create index "operacionevento_fecha" to table: "operacion_eventos"
CREATE INDEX `operacionevento_fecha` ON `operacion_eventos` (`fecha`);
-- Create "operacion_facturas" table
CREATE TABLE `operacion_facturas` (`operacion_id` integer NOT NULL, `factura_id` integer NOT NULL, PRIMARY KEY (`operacion_id`, `factura_id`), CONSTRAINT `operacion_facturas_operaciones_operacion` FOREIGN KEY (`operacion_id`) REFERENCES `operaciones` (`id`) ON DELETE NO ACTION, CONSTRAINT `operacion_facturas_facturas_factura` FOREIGN KEY (`factura_id`) REFERENCES `facturas` (`id`) ON DELETE NO ACTION);
-- Set sequence for "operacion_facturas" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("operacion_facturas", 17179869184);
-- Create index "operacionfactura_factura_id" to table: "operacion_facturas"
CREATE INDEX `operacionfactura_factura_id` ON `operacion_facturas` (`factura_id`);
