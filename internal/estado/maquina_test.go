package estado_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banpro/factoring/internal/apperror"
	"github.com/banpro/factoring/internal/estado"
)

// pairs lists, for one machine, every (action, from) pair that is allowed
// and where it leads; every other pair must be refused. The expectations are
// written out here, from docs/dominio.md, independently of the machine's
// data.
type pairs[S ~string] map[estado.Accion]map[S]S

func checkMachine[S ~string](t *testing.T, m estado.Maquina[S], states []S, allowed pairs[S]) {
	t.Helper()
	require.ElementsMatch(t, keys(allowed), m.Acciones(), "the machine has exactly the documented actions")
	for _, a := range m.Acciones() {
		for _, from := range states {
			want, ok := allowed[a][from]
			name := string(a) + "_desde_" + string(from)
			t.Run(name, func(t *testing.T) {
				got, err := m.Siguiente(a, from)
				assert.Equal(t, ok, m.Puede(a, from))
				if ok {
					require.NoError(t, err)
					assert.Equal(t, want, got)
					return
				}
				require.Error(t, err)
				assert.Equal(t, apperror.Conflict, apperror.CodeOf(err))
				assert.Contains(t, err.Error(), "estado "+string(from), "the CONFLICT names the current state")
			})
		}
	}
}

func keys[S ~string](p pairs[S]) []estado.Accion {
	var out []estado.Accion
	for a := range p {
		out = append(out, a)
	}
	return out
}

func TestMaquinaClientes(t *testing.T) {
	all := []estado.Cliente{estado.ClientePendiente, estado.ClienteActivo, estado.ClienteSuspendido, estado.ClienteBloqueado}
	checkMachine(t, estado.Clientes, all, pairs[estado.Cliente]{
		estado.ActivarCliente: {
			estado.ClientePendiente:  estado.ClienteActivo,
			estado.ClienteSuspendido: estado.ClienteActivo,
		},
		estado.SuspenderCliente: {
			estado.ClienteActivo: estado.ClienteSuspendido,
		},
		estado.BloquearCliente: {
			estado.ClientePendiente:  estado.ClienteBloqueado,
			estado.ClienteActivo:     estado.ClienteBloqueado,
			estado.ClienteSuspendido: estado.ClienteBloqueado,
		},
	})
}

func TestMaquinaFacturas(t *testing.T) {
	all := []estado.Factura{estado.FacturaDisponible, estado.FacturaEnProceso, estado.FacturaCedida,
		estado.FacturaPagada, estado.FacturaVencida, estado.FacturaAnulada}
	checkMachine(t, estado.Facturas, all, pairs[estado.Factura]{
		estado.RetenerFactura: {estado.FacturaDisponible: estado.FacturaEnProceso},
		estado.LiberarFactura: {estado.FacturaEnProceso: estado.FacturaDisponible},
		estado.CederFactura:   {estado.FacturaEnProceso: estado.FacturaCedida},
		estado.PagarFactura: {
			estado.FacturaDisponible: estado.FacturaPagada,
			estado.FacturaCedida:     estado.FacturaPagada,
			estado.FacturaVencida:    estado.FacturaPagada,
		},
		// (change) a paid, ceded or held invoice can no longer be voided.
		estado.AnularFactura: {estado.FacturaDisponible: estado.FacturaAnulada},
		estado.VencerFactura: {
			estado.FacturaDisponible: estado.FacturaVencida,
			estado.FacturaCedida:     estado.FacturaVencida,
		},
	})
}

func TestMaquinaOperaciones(t *testing.T) {
	all := []estado.Operacion{estado.OperacionPendiente, estado.OperacionAprobada, estado.OperacionRechazada,
		estado.OperacionDesembolsada, estado.OperacionFinalizada}
	checkMachine(t, estado.Operaciones, all, pairs[estado.Operacion]{
		estado.AprobarOperacion:     {estado.OperacionPendiente: estado.OperacionAprobada},
		estado.RechazarOperacion:    {estado.OperacionPendiente: estado.OperacionRechazada},
		estado.DesembolsarOperacion: {estado.OperacionAprobada: estado.OperacionDesembolsada},
		estado.FinalizarOperacion: {
			estado.OperacionAprobada:     estado.OperacionFinalizada,
			estado.OperacionDesembolsada: estado.OperacionFinalizada,
		},
	})
}

func TestMaquinaDeudores(t *testing.T) {
	all := []estado.Deudor{estado.DeudorActivo, estado.DeudorBloqueado}
	checkMachine(t, estado.Deudores, all, pairs[estado.Deudor]{
		estado.BloquearDeudor: {estado.DeudorActivo: estado.DeudorBloqueado},
		estado.ActivarDeudor:  {estado.DeudorBloqueado: estado.DeudorActivo},
	})
}

// TestMaquinaAcuses: the deudor accepts or claims once, from PENDIENTE; a
// claim after an acceptance (and the other way round) is a CONFLICT.
func TestMaquinaAcuses(t *testing.T) {
	all := []estado.Acuse{estado.AcusePendiente, estado.AcuseAceptada, estado.AcuseReclamada}
	checkMachine(t, estado.Acuses, all, pairs[estado.Acuse]{
		estado.AceptarFactura:  {estado.AcusePendiente: estado.AcuseAceptada},
		estado.ReclamarFactura: {estado.AcusePendiente: estado.AcuseReclamada},
	})
	for e, want := range map[estado.Acuse]estado.Accion{estado.AcuseAceptada: estado.AceptarFactura, estado.AcuseReclamada: estado.ReclamarFactura} {
		a, ok := estado.AccionDeAcuse(e)
		assert.True(t, ok)
		assert.Equal(t, want, a)
	}
	_, ok := estado.AccionDeAcuse(estado.AcusePendiente)
	assert.False(t, ok, "no action leads back to PENDIENTE")
}

func TestValoresCoincidenConConstantes(t *testing.T) {
	assert.Equal(t, []string{"PENDIENTE", "ACTIVO", "SUSPENDIDO", "BLOQUEADO"}, estado.Cliente("").Values())
	var e estado.Operacion
	require.NoError(t, e.UnmarshalGQL("APROBADA"))
	assert.Equal(t, estado.OperacionAprobada, e)
	assert.Error(t, e.UnmarshalGQL("aprobada"))
	assert.Equal(t, []string{"ACTIVO", "BLOQUEADO"}, estado.Deudor("").Values())
	assert.Equal(t, []string{"PENDIENTE", "ACEPTADA", "RECLAMADA"}, estado.Acuse("").Values())
	var a estado.Acuse
	require.NoError(t, a.UnmarshalGQL("RECLAMADA"))
	assert.Equal(t, estado.AcuseReclamada, a)
	assert.Error(t, a.UnmarshalGQL("TACITA"))
}

// TestDesde ensures that the from-states other packages query by (the
// overdue job selects the invoices VencerFactura may start from) are the
// machine's.
func TestDesde(t *testing.T) {
	assert.Equal(t, []estado.Factura{estado.FacturaDisponible, estado.FacturaCedida}, estado.Facturas.Desde(estado.VencerFactura))
	assert.Equal(t, []estado.Factura{estado.FacturaEnProceso}, estado.Facturas.Desde(estado.CederFactura))
	desde := estado.Operaciones.Desde(estado.FinalizarOperacion)
	desde[0] = estado.OperacionRechazada
	assert.Equal(t, []estado.Operacion{estado.OperacionAprobada, estado.OperacionDesembolsada},
		estado.Operaciones.Desde(estado.FinalizarOperacion), "Desde returns a copy")
	assert.Panics(t, func() { estado.Facturas.Desde(estado.SuspenderCliente) })
}

// TestOperacionActivaYOcupaLinea lists, per state, whether an operación
// holds its invoices and whether it holds part of the credit line.
func TestOperacionActivaYOcupaLinea(t *testing.T) {
	for _, tc := range []struct {
		e             estado.Operacion
		activa, ocupa bool
	}{
		{estado.OperacionPendiente, true, false},
		{estado.OperacionAprobada, true, true},
		{estado.OperacionRechazada, false, false},
		{estado.OperacionDesembolsada, true, true},
		{estado.OperacionFinalizada, false, false},
	} {
		t.Run(string(tc.e), func(t *testing.T) {
			assert.Equal(t, tc.activa, estado.OperacionActiva(tc.e), "activa")
			assert.Equal(t, tc.ocupa, estado.OperacionOcupaLinea(tc.e), "ocupa línea")
			assert.Equal(t, !tc.activa, estado.Operaciones.Final(tc.e), "final")
		})
	}
}

// TestEventos ensures that every transition of the operación writes its own
// event and that each event reads back as the action it records.
func TestEventos(t *testing.T) {
	want := map[estado.Accion]estado.TipoEvento{
		estado.AprobarOperacion:     estado.EventoAprobada,
		estado.RechazarOperacion:    estado.EventoRechazada,
		estado.DesembolsarOperacion: estado.EventoDesembolsada,
		estado.FinalizarOperacion:   estado.EventoFinalizada,
	}
	require.Len(t, estado.Operaciones.Acciones(), len(want))
	for _, a := range estado.Operaciones.Acciones() {
		assert.Equal(t, want[a], estado.EventoDe(a), "event of %s", a)
		back, ok := estado.AccionDe(want[a])
		assert.True(t, ok)
		assert.Equal(t, a, back)
	}
	_, ok := estado.AccionDe(estado.EventoCreada)
	assert.False(t, ok, "CREADA records the creation, not a transition")
	assert.Panics(t, func() { estado.EventoDe(estado.PagarFactura) })
}
