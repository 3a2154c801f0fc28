-- Collections (docs/dominio.md, "Collections"): a factura's new states
-- (EN_RECOMPRA, RECOMPRADA) and the audit trail's new kinds of entry. Atlas
-- tells CHECK constraints apart by name only, so a changed list of values
-- takes a migration of its own.
ALTER TABLE "facturas" DROP CONSTRAINT "facturas_estado_valido",
  ADD CONSTRAINT "facturas_estado_valido" CHECK (estado IN ('DISPONIBLE', 'EN_PROCESO', 'CEDIDA', 'PAGADA', 'VENCIDA', 'ANULADA', 'EN_RECOMPRA', 'RECOMPRADA'));
ALTER TABLE "eventos_auditoria" DROP CONSTRAINT "eventos_auditoria_tipo_valido",
  ADD CONSTRAINT "eventos_auditoria_tipo_valido" CHECK (tipo IN ('CLIENTE_CREADO', 'CLIENTE_ACTUALIZADO', 'CLIENTE_ACTIVADO', 'CLIENTE_SUSPENDIDO', 'CLIENTE_BLOQUEADO', 'CLIENTE_LINEA_AJUSTADA', 'CLIENTE_CONCENTRACION_FIJADA', 'FACTURA_REGISTRADA', 'FACTURA_ACUSE_REGISTRADO', 'FACTURA_PAGADA', 'FACTURA_ANULADA', 'FACTURA_VENCIDA', 'FACTURA_PAGO_REGISTRADO', 'FACTURA_RECOMPRA_EXIGIDA', 'FACTURA_RECOMPRA_REGISTRADA', 'FACTURA_RECOMPRA_COMPENSADA', 'OPERACION_CREADA', 'OPERACION_APROBADA', 'OPERACION_RECHAZADA', 'OPERACION_DESEMBOLSADA', 'OPERACION_FINALIZADA', 'DEUDOR_CREADO', 'DEUDOR_ACTUALIZADO', 'DEUDOR_LINEA_FIJADA', 'DEUDOR_BLOQUEADO', 'DEUDOR_ACTIVADO'));
-- Payments and closes of business are append-only, like the audit trail: a
-- payment recorded is never changed or removed (a mistake is corrected by
-- another record, never by rewriting this one), and a closed business date
-- stays closed. The serving role finds these tables by their
-- *_sin_update_delete trigger and is denied UPDATE, DELETE and TRUNCATE.
CREATE FUNCTION "pagos_solo_insercion"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'pagos es de solo inserción: % no permitido', TG_OP
    USING ERRCODE = 'restrict_violation';
END;
$$;
CREATE TRIGGER "pagos_sin_update_delete" BEFORE UPDATE OR DELETE ON "pagos"
  FOR EACH ROW EXECUTE FUNCTION "pagos_solo_insercion"();
CREATE TRIGGER "pagos_sin_truncate" BEFORE TRUNCATE ON "pagos"
  FOR EACH STATEMENT EXECUTE FUNCTION "pagos_solo_insercion"();
CREATE FUNCTION "cierres_solo_insercion"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'cierres es de solo inserción: % no permitido', TG_OP
    USING ERRCODE = 'restrict_violation';
END;
$$;
CREATE TRIGGER "cierres_sin_update_delete" BEFORE UPDATE OR DELETE ON "cierres"
  FOR EACH ROW EXECUTE FUNCTION "cierres_solo_insercion"();
CREATE TRIGGER "cierres_sin_truncate" BEFORE TRUNCATE ON "cierres"
  FOR EACH STATEMENT EXECUTE FUNCTION "cierres_solo_insercion"();
