-- Drop index "operacionfactura_factura_id" from table: "operacion_facturas"
DROP INDEX "operacionfactura_factura_id";
-- Create index "operacionfactura_factura_id_operacion_id" to table: "operacion_facturas"
CREATE INDEX "operacionfactura_factura_id_operacion_id" ON "operacion_facturas" ("factura_id", "operacion_id");
-- Create index "operacion_id_listado" to table: "operaciones"
CREATE INDEX "operacion_id_listado" ON "operaciones" ("id") INCLUDE ("estado", "fecha_solicitud", "monto_total_facturas", "monto_descuento", "monto_a_desembolsar");
