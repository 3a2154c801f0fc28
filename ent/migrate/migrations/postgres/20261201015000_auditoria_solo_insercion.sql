-- The audit trail of every mutation is append-only (docs/dominio.md, "Audit
-- trail"), like operacion_eventos: the database itself refuses to change or
-- remove an entry, whoever asks. The serving role finds the table by its
-- *_sin_update_delete trigger and is denied UPDATE, DELETE and TRUNCATE on it.
CREATE FUNCTION "eventos_auditoria_solo_insercion"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'eventos_auditoria es de solo inserción: % no permitido', TG_OP
    USING ERRCODE = 'restrict_violation';
END;
$$;
CREATE TRIGGER "eventos_auditoria_sin_update_delete" BEFORE UPDATE OR DELETE ON "eventos_auditoria"
  FOR EACH ROW EXECUTE FUNCTION "eventos_auditoria_solo_insercion"();
CREATE TRIGGER "eventos_auditoria_sin_truncate" BEFORE TRUNCATE ON "eventos_auditoria"
  FOR EACH STATEMENT EXECUTE FUNCTION "eventos_auditoria_solo_insercion"();
