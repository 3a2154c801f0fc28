-- The deudores the previous migration made from the facturas there were get
-- their creation entry in the audit trail (docs/dominio.md, "Audit trail",
-- "Data from before the trail"), so that `factoring verificar` holds every
-- deudor to one rule: a DEUDOR_CREADO dated at its creation, by actor
-- sistema under request migracion-deudores, recording the RUT, razón
-- social and state it has, with "migracion": true. The statement skips the
-- deudores that already have entries, so it may run again over rows loaded
-- from outside the API (the benchmark's dataset).
INSERT INTO "eventos_auditoria" ("entidad", "entidad_id", "deudor_id", "tipo", "fecha", "estado_nuevo", "request_id", "actor", "detalle")
  SELECT 'DEUDOR', "id", "id", 'DEUDOR_CREADO', "creado_en", "estado", 'migracion-deudores', 'sistema',
    jsonb_build_object('migracion', true, 'cambios', jsonb_build_object(
      'rut', jsonb_build_object('anterior', NULL, 'nuevo', "rut"),
      'razonSocial', jsonb_build_object('anterior', NULL, 'nuevo', "razon_social"),
      'estado', jsonb_build_object('anterior', NULL, 'nuevo', "estado")))
  FROM "deudores" "d"
  WHERE NOT EXISTS (SELECT 1 FROM "eventos_auditoria" "a" WHERE "a"."deudor_id" = "d"."id")
  ORDER BY "d"."id";
