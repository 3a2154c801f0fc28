-- Create "claves_idempotencia" table
CREATE TABLE `claves_idempotencia` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `sujeto` text NOT NULL, `clave` text NOT NULL, `huella` blob NOT NULL, `intento` text NOT NULL, `respuesta` blob NULL, `estado_http` integer NULL, `creado_en` datetime NOT NULL, `vigente_hasta` datetime NOT NULL, `expira_en` datetime NOT NULL);
-- Set sequence for "claves_idempotencia" table
INSERT INTO sqlite_sequence (name, seq) VALUES ("claves_idempotencia", 68719476736);
-- Create index "claveidempotencia_sujeto_clave" to table: "claves_idempotencia"
CREATE UNIQUE INDEX `claveidempotencia_sujeto_clave` ON `claves_idempotencia` (`sujeto`, `clave`);
-- Create index "claveidempotencia_expira_en" to table: "claves_idempotencia"
CREATE INDEX `claveidempotencia_expira_en` ON `claves_idempotencia` (`expira_en`);
