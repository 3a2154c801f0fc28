package database_test

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// checks is every CHECK constraint the migrations create, with what keeps
// valid input from reaching it (docs/dominio.md, "Database CHECKs"). A
// CHECK is the database's last word: input that would break it must be
// refused before, by the domain, with a VALIDATION_ERROR on the field to
// blame; a CHECK violation reaches the client as an INTERNAL_ERROR. So a
// new CHECK needs its guard, and a test of it, before it is listed here.
var checks = map[string]string{
	"eventos_auditoria_entidad_valida":      "entidad is set only by auditoria.Registrar from its closed set (CLIENTE, FACTURA, OPERACION, DEUDOR); no input names it",
	"eventos_auditoria_tipo_valido":         "tipo is set only by the services from estado.TipoAuditoria's constants; no input names it",
	"eventos_auditoria_una_entidad":         "auditoria.Registrar sets exactly the edge of the entry's entity and entidad_id from the same row (auditoria tests)",
	"entregas_canal_valido":                 "canal is only ever set by the dispatcher from its closed set of channels (despacho: webhook, nats, correo); no input names it",
	"entregas_estado_valido":                "estado is only ever set by the dispatcher and ReenviarEntrega from the closed set PENDIENTE, ENTREGADA, FALLIDA; no input names it",
	"clientes_estado_valido":                "estado is only ever set from the state machine of internal/estado (estado.Clientes); the enum's values are the CHECK's list (ent/schema's inList)",
	"clientes_linea_credito_no_negativa":    "clientes.Crear and AjustarLineaCredito refuse a negative lineaCredito (clientes TestCrear, TestAjustarLineaCredito)",
	"clientes_linea_disponible_en_rango":    "lineaDisponible moves only by approval (which needs lineaDisponible ≥ montoTotalFacturas: VALIDATION_ERROR on lineaDisponible), finalization (gives back what approval took: the credit-line invariant) and AjustarLineaCredito (refuses a line below the one in use); verificar checks the invariant (operaciones TestAprobar, clientes TestAjustarLineaCredito, verificar)",
	"facturas_estado_valido":                "estado is only ever set from estado.Facturas",
	"facturas_monto_total_positivo":         "facturas.Registrar refuses montoTotal ≤ 0 (facturas TestRegistrar/monto_total_mayor_que_cero)",
	"facturas_vencimiento_tras_emision":     "facturas.Registrar refuses fechaVencimiento ≤ fechaEmision (facturas TestRegistrar/vencimiento_posterior_a_emision)",
	"clientes_concentracion_en_rango":       "clientes.FijarConcentracionMaxima refuses a porcentaje outside 0 < p ≤ 100 or with more than 2 decimals (clientes TestFijarConcentracionMaxima); null is the configured default, which config refuses outside the same range at start",
	"deudores_estado_valido":                "estado is only ever set from estado.Deudores",
	"deudores_linea_exposicion_no_negativa": "deudores.FijarLineaExposicion refuses a negative lineaExposicion (deudores TestFijarLineaExposicion)",
	"facturas_estado_acuse_valido":          "estadoAcuse is only ever set from estado.Acuses; registrarAcuseFactura refuses PENDIENTE as an acuse (facturas TestRegistrarAcuse)",
	"facturas_recepcion_desde_emision":      "facturas.Registrar refuses a fechaRecepcion before fechaEmision and defaults it to fechaEmision (facturas TestRegistrar/fecha_recepcion)",
	"operacion_eventos_tipo_valido":         "tipo is only ever set from estado.TipoEvento's constants",
	"operaciones_descuento_hasta_el_total":  "operaciones.Crear refuses a discount above the total (operaciones TestCrearMontosAcotados); at the default rate it cannot happen: a due date is at most 5 years after an issue no later than today (facturas TestRegistrar/fechas_acotadas), 2 % × 1,827/360 ≈ 10 %",
	"operaciones_estado_valido":             "estado is only ever set from estado.Operaciones",
	"operaciones_monto_total_positivo":      "operaciones.Crear refuses a total ≤ 0; every factura's montoTotal is > 0",
	"operaciones_montos_no_negativos":       "montoDescuento ≥ 0: diasDescuento ≥ 0, as an overdue factura cannot be ceded (operaciones TestCrear); montoADesembolsar = total − descuento ≥ 0 by the discount's guard",
	"operaciones_tasa_en_rango":             "tasaDescuento comes from configuration, which refuses a rate outside 0 < tasa ≤ 100 at start (config tests)",
}

var checkConstraint = regexp.MustCompile("CONSTRAINT [\"`]([a-z_]+)[\"`] CHECK")

// Ensure that every CHECK of the migrations, on both dialects, is listed
// above with its guard, and that the list holds nothing else.
func TestChecksConocidos(t *testing.T) {
	want := make([]string, 0, len(checks))
	for name, guard := range checks {
		require.NotEmpty(t, guard, name)
		want = append(want, name)
	}
	for _, dialect := range []string{"postgres", "sqlite"} {
		files, err := filepath.Glob(filepath.Join("..", "..", "ent", "migrate", "migrations", dialect, "*.sql"))
		require.NoError(t, err)
		require.NotEmpty(t, files)
		var found []string
		for _, f := range files {
			src, err := os.ReadFile(f)
			require.NoError(t, err)
			for _, m := range checkConstraint.FindAllStringSubmatch(string(src), -1) {
				found = append(found, m[1])
			}
		}
		slices.Sort(found)
		assert.ElementsMatch(t, want, slices.Compact(found), "%s: every CHECK of the migrations needs its guard listed in checks", dialect)
	}
}
