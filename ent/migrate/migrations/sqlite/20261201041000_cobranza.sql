-- Disable the enforcement of foreign-keys constraints
PRAGMA foreign_keys = off;
-- Create "new_operaciones" table
CREATE TABLE `new_operaciones` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `fecha_solicitud` datetime NOT NULL, `fecha_aprobacion` datetime NULL, `fecha_desembolso` datetime NULL, `fecha_finalizacion` datetime NULL, `monto_total_facturas` numeric NOT NULL, `tasa_descuento` numeric NOT NULL, `dias_descuento` integer NOT NULL, `monto_descuento` numeric NOT NULL, `monto_a_desembolsar` numeric NOT NULL, `estado` text NOT NULL DEFAULT ('PENDIENTE'), `motivo_rechazo` text NULL, `porcentaje_anticipo` numeric NOT NULL DEFAULT ('100'), `comision` numeric NOT NULL DEFAULT ('0'), `tasa_mora` numeric NOT NULL DEFAULT ('0'), `monto_liquidacion` numeric NULL, `liquidacion` json NULL, `creado_en` datetime NOT NULL, `actualizado_en` datetime NOT NULL, `cliente_id` integer NOT NULL, CONSTRAINT `operaciones_clientes_operaciones` FOREIGN KEY (`cliente_id`) REFERENCES `clientes` (`id`) ON DELETE NO ACTION, CONSTRAINT `operaciones_anticipo_en_rango` CHECK (porcentaje_anticipo > 0 AND porcentaje_anticipo <= 100), CONSTRAINT `operaciones_comision_no_negativa` CHECK (comision >= 0), CONSTRAINT `operaciones_descuento_hasta_el_total` CHECK (monto_descuento <= monto_total_facturas), CONSTRAINT `operaciones_estado_valido` CHECK (estado IN ('PENDIENTE', 'APROBADA', 'RECHAZADA', 'DESEMBOLSADA', 'FINALIZADA')), CONSTRAINT `operaciones_liquidacion_completa` CHECK ((monto_liquidacion IS NULL) = (liquidacion IS NULL)), CONSTRAINT `operaciones_monto_total_positivo` CHECK (monto_total_facturas > 0), CONSTRAINT `operaciones_montos_no_negativos` CHECK (monto_descuento >= 0 AND monto_a_desembolsar >= 0), CONSTRAINT `operaciones_tasa_en_rango` CHECK (tasa_descuento > 0 AND tasa_descuento <= 100), CONSTRAINT `operaciones_tasa_mora_en_rango` CHECK (tasa_mora >= 0 AND tasa_mora <= 100));
-- Set sequence for "new_operaciones" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("new_operaciones", 8589934592);
-- Copy rows from old table "operaciones" to new temporary table "new_operaciones"
INSERT INTO `new_operaciones` (`id`, `fecha_solicitud`, `fecha_aprobacion`, `fecha_desembolso`, `fecha_finalizacion`, `monto_total_facturas`, `tasa_descuento`, `dias_descuento`, `monto_descuento`, `monto_a_desembolsar`, `estado`, `motivo_rechazo`, `creado_en`, `actualizado_en`, `cliente_id`) SELECT `id`, `fecha_solicitud`, `fecha_aprobacion`, `fecha_desembolso`, `fecha_finalizacion`, `monto_total_facturas`, `tasa_descuento`, `dias_descuento`, `monto_descuento`, `monto_a_desembolsar`, `estado`, `motivo_rechazo`, `creado_en`, `actualizado_en`, `cliente_id` FROM `operaciones`;
-- Drop "operaciones" table after copying rows
DROP TABLE `operaciones`;
-- Rename temporary table "new_operaciones" to "operaciones"
ALTER TABLE `new_operaciones` RENAME TO `operaciones`;
-- Create index "operacion_cliente_id_fecha_solicitud" to table: "operaciones"
CREATE INDEX `operacion_cliente_id_fecha_solicitud` ON `operaciones` (`cliente_id`, `fecha_solicitud`);
-- Create index "operacion_estado" to table: "operaciones"
CREATE INDEX `operacion_estado` ON `operaciones` (`estado`);
-- Create index "operacion_fecha_solicitud" to table: "operaciones"
CREATE INDEX `operacion_fecha_solicitud` ON `operaciones` (`fecha_solicitud`);
-- Create index "operacion_id_listado" to table: "operaciones"
CREATE INDEX `operacion_id_listado` ON `operaciones` (`id`);
-- Create "new_facturas" table
CREATE TABLE `new_facturas` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `numero_factura` text NOT NULL, `rut_deudor` text NOT NULL, `razon_social_deudor` text NOT NULL, `monto_total` numeric NOT NULL, `fecha_emision` date NOT NULL, `fecha_vencimiento` date NOT NULL, `fecha_recepcion` date NOT NULL, `estado` text NOT NULL DEFAULT ('DISPONIBLE'), `estado_acuse` text NOT NULL DEFAULT ('PENDIENTE'), `motivo_acuse` text NULL, `motivo_anulacion` text NULL, `monto_pagado` numeric NOT NULL DEFAULT ('0'), `dias_mora` integer NOT NULL DEFAULT (0), `interes_mora` numeric NOT NULL DEFAULT ('0'), `recompra_exigida_en` datetime NULL, `monto_recompra` numeric NULL, `fecha_recompra` date NULL, `creado_en` datetime NOT NULL, `actualizado_en` datetime NOT NULL, `cliente_id` integer NOT NULL, `deudor_id` integer NOT NULL, CONSTRAINT `facturas_clientes_facturas` FOREIGN KEY (`cliente_id`) REFERENCES `clientes` (`id`) ON DELETE NO ACTION, CONSTRAINT `facturas_deudores_facturas` FOREIGN KEY (`deudor_id`) REFERENCES `deudores` (`id`) ON DELETE NO ACTION, CONSTRAINT `facturas_cobranza_no_negativa` CHECK (monto_pagado >= 0 AND interes_mora >= 0 AND dias_mora >= 0), CONSTRAINT `facturas_estado_acuse_valido` CHECK (estado_acuse IN ('PENDIENTE', 'ACEPTADA', 'RECLAMADA')), CONSTRAINT `facturas_estado_valido` CHECK (estado IN ('DISPONIBLE', 'EN_PROCESO', 'CEDIDA', 'PAGADA', 'VENCIDA', 'ANULADA', 'EN_RECOMPRA', 'RECOMPRADA')), CONSTRAINT `facturas_monto_total_positivo` CHECK (monto_total > 0), CONSTRAINT `facturas_recepcion_desde_emision` CHECK (fecha_recepcion >= fecha_emision), CONSTRAINT `facturas_recompra_positiva` CHECK (monto_recompra IS NULL OR monto_recompra > 0), CONSTRAINT `facturas_vencimiento_tras_emision` CHECK (fecha_vencimiento > fecha_emision));
-- Set sequence for "new_facturas" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("new_facturas", 4294967296);
-- Copy rows from old table "facturas" to new temporary table "new_facturas"
INSERT INTO `new_facturas` (`id`, `numero_factura`, `rut_deudor`, `razon_social_deudor`, `monto_total`, `fecha_emision`, `fecha_vencimiento`, `fecha_recepcion`, `estado`, `estado_acuse`, `motivo_acuse`, `motivo_anulacion`, `creado_en`, `actualizado_en`, `cliente_id`, `deudor_id`) SELECT `id`, `numero_factura`, `rut_deudor`, `razon_social_deudor`, `monto_total`, `fecha_emision`, `fecha_vencimiento`, `fecha_recepcion`, `estado`, `estado_acuse`, `motivo_acuse`, `motivo_anulacion`, `creado_en`, `actualizado_en`, `cliente_id`, `deudor_id` FROM `facturas`;
-- Drop "facturas" table after copying rows
DROP TABLE `facturas`;
-- Rename temporary table "new_facturas" to "facturas"
ALTER TABLE `new_facturas` RENAME TO `facturas`;
-- Create index "factura_cliente_id_numero_factura" to table: "facturas"
CREATE UNIQUE INDEX `factura_cliente_id_numero_factura` ON `facturas` (`cliente_id`, `numero_factura`);
-- Create index "factura_cliente_id_creado_en" to table: "facturas"
CREATE INDEX `factura_cliente_id_creado_en` ON `facturas` (`cliente_id`, `creado_en`);
-- Create index "factura_estado" to table: "facturas"
CREATE INDEX `factura_estado` ON `facturas` (`estado`);
-- Create index "factura_rut_deudor" to table: "facturas"
CREATE INDEX `factura_rut_deudor` ON `facturas` (`rut_deudor`);
-- Create index "factura_deudor_id_creado_en" to table: "facturas"
CREATE INDEX `factura_deudor_id_creado_en` ON `facturas` (`deudor_id`, `creado_en`);
-- Create index "factura_fecha_emision" to table: "facturas"
CREATE INDEX `factura_fecha_emision` ON `facturas` (`fecha_emision`);
-- Create index "factura_fecha_vencimiento" to table: "facturas"
CREATE INDEX `factura_fecha_vencimiento` ON `facturas` (`fecha_vencimiento`);
-- Create index "factura_creado_en" to table: "facturas"
CREATE INDEX `factura_creado_en` ON `facturas` (`creado_en`);
-- Create "cierres" table
CREATE TABLE `cierres` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `fecha` date NOT NULL, `ejecutado_en` datetime NOT NULL, `actor` text NOT NULL, `request_id` text NOT NULL, `facturas_vencidas` integer NOT NULL, `facturas_en_mora` integer NOT NULL, `interes_devengado` numeric NOT NULL);
-- Set sequence for "cierres" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("cierres", 300647710720);
-- Create index "cierres_fecha_key" to table: "cierres"
CREATE UNIQUE INDEX `cierres_fecha_key` ON `cierres` (`fecha`);
-- Create "pagos" table
CREATE TABLE `pagos` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `monto` numeric NOT NULL, `fecha` date NOT NULL, `referencia` text NULL, `actor` text NOT NULL, `request_id` text NOT NULL, `creado_en` datetime NOT NULL, `factura_id` integer NOT NULL, CONSTRAINT `pagos_facturas_pagos` FOREIGN KEY (`factura_id`) REFERENCES `facturas` (`id`) ON DELETE NO ACTION, CONSTRAINT `pagos_monto_positivo` CHECK (monto > 0));
-- Set sequence for "pagos" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("pagos", 296352743424);
-- Create index "pago_factura_id_fecha" to table: "pagos"
CREATE INDEX `pago_factura_id_fecha` ON `pagos` (`factura_id`, `fecha`);
-- Enable back the enforcement of foreign-keys constraints
PRAGMA foreign_keys = on;
