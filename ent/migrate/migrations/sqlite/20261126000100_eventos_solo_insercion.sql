-- The audit trail is append-only (docs/dominio.md, OperacionEvento): the database
-- itself refuses to change or remove an event. SQLite has no TRUNCATE; a
-- DELETE without WHERE fires the delete trigger like any other.
CREATE TRIGGER `operacion_eventos_sin_update` BEFORE UPDATE ON `operacion_eventos`
BEGIN
  SELECT RAISE(ABORT, 'operacion_eventos es de solo inserción: UPDATE no permitido');
END;
CREATE TRIGGER `operacion_eventos_sin_delete` BEFORE DELETE ON `operacion_eventos`
BEGIN
  SELECT RAISE(ABORT, 'operacion_eventos es de solo inserción: DELETE no permitido');
END;
