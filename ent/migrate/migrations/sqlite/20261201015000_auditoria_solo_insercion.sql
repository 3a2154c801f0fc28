-- The audit trail of every mutation is append-only (docs/dominio.md, "Audit
-- trail"), like operacion_eventos: the database itself refuses to change or
-- remove an entry. SQLite has no TRUNCATE; a DELETE without WHERE fires the
-- delete trigger like any other.
CREATE TRIGGER `eventos_auditoria_sin_update` BEFORE UPDATE ON `eventos_auditoria`
BEGIN
  SELECT RAISE(ABORT, 'eventos_auditoria es de solo inserción: UPDATE no permitido');
END;
CREATE TRIGGER `eventos_auditoria_sin_delete` BEFORE DELETE ON `eventos_auditoria`
BEGIN
  SELECT RAISE(ABORT, 'eventos_auditoria es de solo inserción: DELETE no permitido');
END;
