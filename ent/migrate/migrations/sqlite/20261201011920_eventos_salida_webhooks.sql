-- Create "entregas" table
CREATE TABLE `entregas` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `evento_id` text NOT NULL, `tipo` text NOT NULL, `sujeto` text NOT NULL, `canal` text NOT NULL, `destino` text NOT NULL, `estado` text NOT NULL DEFAULT ('PENDIENTE'), `intento` integer NOT NULL DEFAULT (0), `status_http` integer NULL, `error` text NULL, `duracion_ms` integer NULL, `proximo_intento` datetime NULL, `fecha` datetime NOT NULL, `intentado_en` datetime NULL, `reintentos_desde` datetime NOT NULL, `reclamada_hasta` datetime NULL, `reclamada_por` text NULL, `evento_seq` integer NOT NULL, `webhook_id` integer NULL, CONSTRAINT `entregas_outbox_eventos_entregas` FOREIGN KEY (`evento_seq`) REFERENCES `outbox_eventos` (`id`) ON DELETE CASCADE, CONSTRAINT `entregas_webhooks_entregas` FOREIGN KEY (`webhook_id`) REFERENCES `webhooks` (`id`) ON DELETE CASCADE, CONSTRAINT `entregas_canal_valido` CHECK (canal IN ('WEBHOOK', 'NATS', 'EMAIL')), CONSTRAINT `entregas_estado_valido` CHECK (estado IN ('PENDIENTE', 'ENTREGADA', 'FALLIDA')));
-- Set sequence for "entregas" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("entregas", 283467841536);
-- Create index "entrega_evento_seq_destino" to table: "entregas"
CREATE UNIQUE INDEX `entrega_evento_seq_destino` ON `entregas` (`evento_seq`, `destino`);
-- Create index "entregas_pendientes_por_vencer" to table: "entregas"
CREATE INDEX `entregas_pendientes_por_vencer` ON `entregas` (`proximo_intento`) WHERE estado = 'PENDIENTE';
-- Create index "entregas_pendientes_por_sujeto" to table: "entregas"
CREATE INDEX `entregas_pendientes_por_sujeto` ON `entregas` (`destino`, `sujeto`, `evento_seq`) WHERE estado = 'PENDIENTE';
-- Create index "entrega_webhook_id_fecha" to table: "entregas"
CREATE INDEX `entrega_webhook_id_fecha` ON `entregas` (`webhook_id`, `fecha`);
-- Create "outbox_eventos" table
CREATE TABLE `outbox_eventos` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `evento_id` text NOT NULL, `tipo` text NOT NULL, `sujeto` text NOT NULL, `fecha` datetime NOT NULL, `request_id` text NOT NULL, `cuerpo` text NOT NULL, `despachado_en` datetime NULL);
-- Set sequence for "outbox_eventos" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("outbox_eventos", 274877906944);
-- Create index "outbox_eventos_evento_id_key" to table: "outbox_eventos"
CREATE UNIQUE INDEX `outbox_eventos_evento_id_key` ON `outbox_eventos` (`evento_id`);
-- Create index "outbox_eventos_sin_despachar" to table: "outbox_eventos"
CREATE INDEX `outbox_eventos_sin_despachar` ON `outbox_eventos` (`id`) WHERE despachado_en IS NULL;
-- Create index "outboxevento_fecha" to table: "outbox_eventos"
CREATE INDEX `outboxevento_fecha` ON `outbox_eventos` (`fecha`);
-- Create "tareas_ejecuciones" table
CREATE TABLE `tareas_ejecuciones` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `tarea` text NOT NULL, `programada_para` datetime NOT NULL, `replica` text NOT NULL, `iniciada_en` datetime NOT NULL, `terminada_en` datetime NULL, `error` text NULL);
-- Set sequence for "tareas_ejecuciones" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("tareas_ejecuciones", 287762808832);
-- Create index "tareaejecucion_tarea_programada_para" to table: "tareas_ejecuciones"
CREATE UNIQUE INDEX `tareaejecucion_tarea_programada_para` ON `tareas_ejecuciones` (`tarea`, `programada_para`);
-- Create "webhooks" table
CREATE TABLE `webhooks` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `url` text NOT NULL, `tipos` json NOT NULL, `descripcion` text NULL, `activo` bool NOT NULL DEFAULT (true), `secreto` text NOT NULL, `secreto_anterior` text NULL, `secreto_anterior_hasta` datetime NULL, `creado_en` datetime NOT NULL, `actualizado_en` datetime NOT NULL);
-- Set sequence for "webhooks" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("webhooks", 279172874240);
