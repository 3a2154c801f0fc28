package estado_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banpro/factoring/internal/estado"
)

// TestTiposDeAuditoria ensures that every audit tipo names its entity and
// maps to the integration event type of the same change, one to one, onto
// exactly the types events out publish.
func TestTiposDeAuditoria(t *testing.T) {
	want := map[string]estado.Entidad{
		"cliente.creado": estado.EntidadCliente, "cliente.actualizado": estado.EntidadCliente,
		"cliente.activado": estado.EntidadCliente, "cliente.suspendido": estado.EntidadCliente,
		"cliente.bloqueado": estado.EntidadCliente, "cliente.linea_ajustada": estado.EntidadCliente,
		"factura.registrada": estado.EntidadFactura, "factura.pagada": estado.EntidadFactura,
		"factura.anulada": estado.EntidadFactura, "factura.vencida": estado.EntidadFactura,
		"operacion.creada": estado.EntidadOperacion, "operacion.aprobada": estado.EntidadOperacion,
		"operacion.rechazada": estado.EntidadOperacion, "operacion.desembolsada": estado.EntidadOperacion,
		"operacion.finalizada":         estado.EntidadOperacion,
		"cliente.concentracion_fijada": estado.EntidadCliente, "factura.acuse_registrado": estado.EntidadFactura,
		"deudor.creado": estado.EntidadDeudor, "deudor.actualizado": estado.EntidadDeudor,
		"deudor.linea_fijada": estado.EntidadDeudor, "deudor.bloqueado": estado.EntidadDeudor,
		"deudor.activado": estado.EntidadDeudor,
	}
	got := map[string]estado.Entidad{}
	for _, v := range estado.TipoAuditoria("").Values() {
		tipo := estado.TipoAuditoria(v)
		got[tipo.TipoIntegracion()] = tipo.Entidad()
	}
	assert.Equal(t, want, got)
	assert.Panics(t, func() { estado.TipoAuditoria("OTRO_CREADO").Entidad() })
}

// TestAuditoriaDeLasAcciones ensures that every state action of a cliente,
// a factura and an operación has its audit tipo, of the right entity, and
// every operación event its audit tipo.
func TestAuditoriaDeLasAcciones(t *testing.T) {
	for _, a := range estado.Clientes.Acciones() {
		assert.Equal(t, estado.EntidadCliente, estado.AuditoriaDeAccion(a).Entidad(), a)
	}
	for _, a := range estado.Operaciones.Acciones() {
		assert.Equal(t, estado.EntidadOperacion, estado.AuditoriaDeAccion(a).Entidad(), a)
	}
	for _, a := range estado.Deudores.Acciones() {
		assert.Equal(t, estado.EntidadDeudor, estado.AuditoriaDeAccion(a).Entidad(), a)
	}
	for _, a := range estado.Acuses.Acciones() {
		assert.Equal(t, estado.AudFacturaAcuse, estado.AuditoriaDeAccion(a), a)
	}
	for _, a := range []estado.Accion{estado.PagarFactura, estado.AnularFactura, estado.VencerFactura} {
		assert.Equal(t, estado.EntidadFactura, estado.AuditoriaDeAccion(a).Entidad(), a)
	}
	for _, v := range estado.TipoEvento("").Values() {
		tipo := estado.AuditoriaDe(estado.TipoEvento(v))
		assert.Equal(t, "OPERACION_"+v, string(tipo))
	}

	// What an operación's entry did to its facturas: hold, cede, release.
	for tipo, hacia := range map[estado.TipoAuditoria]estado.Factura{
		estado.AudOperacionCreada: estado.FacturaEnProceso, estado.AudOperacionAprobada: estado.FacturaCedida,
		estado.AudOperacionRechazada: estado.FacturaDisponible,
	} {
		a, ok := estado.AccionSobreFacturas(tipo)
		require.True(t, ok, tipo)
		assert.Equal(t, hacia, estado.Facturas.Hacia(a), tipo)
	}
	for _, tipo := range []estado.TipoAuditoria{estado.AudOperacionDesembolsada, estado.AudOperacionFinalizada, estado.AudFacturaPagada} {
		_, ok := estado.AccionSobreFacturas(tipo)
		assert.False(t, ok, tipo)
	}
}
