-- The rows that exist when the audit trail begins get their entries
-- (docs/dominio.md, "Audit trail", "Data from before the trail"), so that
-- `factoring verificar` holds every row to one rule:
-- 1. every operacion_eventos row, copied as the operación's entry (the same
--    fecha, states, request, actor and detalle);
-- 2. one CLIENTE_CREADO per cliente and one FACTURA_REGISTRADA per factura,
--    dated at its creation, by actor sistema under request
--    migracion-auditoria, recording the state and the main values the row
--    has now: its earlier history is not known.
-- Every detalle carries "migracion": true. The facturas go last: their
-- entry is then the latest that concerns them, as their state requires.
-- Each statement skips the rows that already have entries, so it may run
-- again over rows loaded from outside the API (the benchmark's dataset).
INSERT INTO "eventos_auditoria" ("entidad", "entidad_id", "operacion_id", "tipo", "fecha", "estado_anterior", "estado_nuevo",
    "request_id", "correlation_id", "actor", "detalle")
  SELECT 'OPERACION', "operacion_id", "operacion_id", 'OPERACION_' || "tipo", "fecha", "estado_anterior", "estado_nuevo",
    "request_id", "correlation_id", "actor", "detalle" || jsonb_build_object('migracion', true)
  FROM "operacion_eventos" "e"
  WHERE NOT EXISTS (SELECT 1 FROM "eventos_auditoria" "a" WHERE "a"."entidad" = 'OPERACION' AND "a"."entidad_id" = "e"."operacion_id")
  ORDER BY "e"."id";
INSERT INTO "eventos_auditoria" ("entidad", "entidad_id", "cliente_id", "tipo", "fecha", "estado_nuevo", "request_id", "actor", "detalle")
  SELECT 'CLIENTE', "id", "id", 'CLIENTE_CREADO', "creado_en", "estado", 'migracion-auditoria', 'sistema',
    jsonb_build_object('migracion', true, 'cambios', jsonb_build_object(
      'rut', jsonb_build_object('anterior', NULL, 'nuevo', "rut"),
      'razonSocial', jsonb_build_object('anterior', NULL, 'nuevo', "razon_social"),
      'email', jsonb_build_object('anterior', NULL, 'nuevo', "email"),
      'lineaCredito', jsonb_build_object('anterior', NULL, 'nuevo', "linea_credito"::text),
      'lineaDisponible', jsonb_build_object('anterior', NULL, 'nuevo', "linea_disponible"::text),
      'estado', jsonb_build_object('anterior', NULL, 'nuevo', "estado")))
  FROM "clientes" "c"
  WHERE NOT EXISTS (SELECT 1 FROM "eventos_auditoria" "a" WHERE "a"."cliente_id" = "c"."id")
  ORDER BY "c"."id";
INSERT INTO "eventos_auditoria" ("entidad", "entidad_id", "factura_id", "tipo", "fecha", "estado_nuevo", "request_id", "actor", "detalle")
  SELECT 'FACTURA', "id", "id", 'FACTURA_REGISTRADA', "creado_en", "estado", 'migracion-auditoria', 'sistema',
    jsonb_build_object('migracion', true, 'cambios', jsonb_build_object(
      'numeroFactura', jsonb_build_object('anterior', NULL, 'nuevo', "numero_factura"),
      'rutDeudor', jsonb_build_object('anterior', NULL, 'nuevo', "rut_deudor"),
      'montoTotal', jsonb_build_object('anterior', NULL, 'nuevo', "monto_total"::text),
      'estado', jsonb_build_object('anterior', NULL, 'nuevo', "estado")))
  FROM "facturas" "f"
  WHERE NOT EXISTS (SELECT 1 FROM "eventos_auditoria" "a" WHERE "a"."factura_id" = "f"."id")
  ORDER BY "f"."id";
