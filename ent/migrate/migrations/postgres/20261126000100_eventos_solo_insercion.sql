-- The audit trail is append-only (docs/dominio.md, OperacionEvento): the database
-- itself refuses to change or remove an event, whoever asks, including the
-- application's own connection.
CREATE FUNCTION "operacion_eventos_solo_insercion"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'operacion_eventos es de solo inserción: % no permitido', TG_OP
    USING ERRCODE = 'restrict_violation';
END;
$$;
CREATE TRIGGER "operacion_eventos_sin_update_delete" BEFORE UPDATE OR DELETE ON "operacion_eventos"
  FOR EACH ROW EXECUTE FUNCTION "operacion_eventos_solo_insercion"();
CREATE TRIGGER "operacion_eventos_sin_truncate" BEFORE TRUNCATE ON "operacion_eventos"
  FOR EACH STATEMENT EXECUTE FUNCTION "operacion_eventos_solo_insercion"();
