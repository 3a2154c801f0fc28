package auditoria_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/banpro/factoring/ent"
	"github.com/banpro/factoring/ent/eventoauditoria"
	"github.com/banpro/factoring/ent/hook"
	"github.com/banpro/factoring/ent/outboxevento"
	"github.com/banpro/factoring/internal/apperror"
	"github.com/banpro/factoring/internal/auth"
	"github.com/banpro/factoring/internal/clientes"
	"github.com/banpro/factoring/internal/database"
	"github.com/banpro/factoring/internal/deudores"
	"github.com/banpro/factoring/internal/estado"
	"github.com/banpro/factoring/internal/eventos"
	"github.com/banpro/factoring/internal/gid"
	"github.com/banpro/factoring/internal/operaciones"
	"github.com/banpro/factoring/internal/requestid"
	"github.com/banpro/factoring/internal/testkit"
)

// como is the context of a request by subject, with its request id and the
// caller's correlation id.
func como(subject, reqID, corr string) context.Context {
	ctx := requestid.WithCorrelation(requestid.NewContext(context.Background(), reqID), corr)
	return auth.NewContext(ctx, auth.Principal{Subject: subject, Roles: []auth.Role{auth.Admin}})
}

// ultimoID is the id of the latest audit entry (0 when none).
func ultimoID(t *testing.T, db *database.DB) int {
	t.Helper()
	id, err := db.Client.EventoAuditoria.Query().Aggregate(ent.Max(eventoauditoria.FieldID)).Int(context.Background())
	if err != nil {
		return 0 // no rows: MAX is NULL
	}
	return id
}

// desde returns the audit entries written after the entry with id after.
func desde(t *testing.T, db *database.DB, after int) []*ent.EventoAuditoria {
	t.Helper()
	evs, err := db.Client.EventoAuditoria.Query().Where(eventoauditoria.IDGT(after)).
		Order(ent.Asc(eventoauditoria.FieldID)).All(context.Background())
	require.NoError(t, err)
	return evs
}

// cambio is a field's old and new value as detalle.cambios records it.
type cambio struct{ anterior, nuevo any }

func cambiosDe(t *testing.T, e *ent.EventoAuditoria) map[string]cambio {
	t.Helper()
	raw, ok := e.Detalle["cambios"].(map[string]any)
	require.True(t, ok, "detalle.cambios: %v", e.Detalle)
	out := map[string]cambio{}
	for k, v := range raw {
		c := v.(map[string]any)
		require.Contains(t, c, "anterior", k)
		require.Contains(t, c, "nuevo", k)
		out[k] = cambio{c["anterior"], c["nuevo"]}
	}
	return out
}

func ptr(s string) *string { return &s }

// mutacion is one of the API's 20 mutations, run by a service under ctx on
// rows prepared for it, with the audit entry it must leave.
type mutacion struct {
	name    string
	tipo    estado.TipoAuditoria
	entidad estado.Entidad
	// prep lays out rows (as another actor, anonimo) and returns the
	// mutation, which runs under ctx and returns the id of the entity it
	// changed.
	prep func(t *testing.T, env *testkit.Env) func(ctx context.Context) (int, error)
	// anterior and nuevo are the states the entry records (nil: none).
	anterior, nuevo *string
	// cambios are exactly the fields the mutation changed.
	cambios func(id int) map[string]cambio
	// detalle checks the rest of the entry's detalle, when there is more.
	detalle func(t *testing.T, e *ent.EventoAuditoria)
}

// The fixed values the cases use.
const (
	lineaInicial = "1000000.00"
	lineaNueva   = "9999999999999.99"
)

var (
	hoy = testkit.HoyFecha
	// instante is the services' fixed clock reading, as detalle renders
	// instants.
	instante = testkit.Hoy.UTC().Format(time.RFC3339Nano)
)

func mutaciones() []mutacion {
	var (
		creado  *ent.Cliente          // set by crearCliente's run
		factura *ent.Factura          // set by registrarFactura's run
		facIDs  = map[string][]int{}  // operación case -> its facturas
		antes   = map[string]string{} // case -> a value its cambios name
	)
	pendiente := func(t *testing.T, env *testkit.Env, name string) *ent.Operacion {
		c := env.MustCrearClienteActivo(t, lineaInicial)
		op, ids := env.MustOperacionPendiente(t, c.ID, "100000.00", "50000.00")
		facIDs[name] = ids
		return op
	}
	facturasMovidas := func(name string, de, a estado.Factura) func(t *testing.T, e *ent.EventoAuditoria) {
		return func(t *testing.T, e *ent.EventoAuditoria) {
			var want []any
			for _, id := range facIDs[name] {
				want = append(want, map[string]any{"id": gid.Encode(id), "estadoAnterior": string(de), "estadoNuevo": string(a)})
			}
			assert.Equal(t, want, e.Detalle["facturas"], "each factura the operación moved, from and to")
		}
	}
	return []mutacion{
		{name: "crearCliente", tipo: estado.AudClienteCreado, entidad: estado.EntidadCliente,
			prep: func(t *testing.T, env *testkit.Env) func(context.Context) (int, error) {
				in := testkit.ClienteInput(lineaInicial)
				in.Telefono = nil
				return func(ctx context.Context) (int, error) {
					c, err := env.Svc.Clientes.Crear(ctx, in)
					if err != nil {
						return 0, err
					}
					creado = c
					return c.ID, nil
				}
			},
			nuevo: ptr("PENDIENTE"),
			cambios: func(int) map[string]cambio {
				return map[string]cambio{
					"rut": {nil, creado.Rut}, "razonSocial": {nil, creado.RazonSocial}, "giro": {nil, *creado.Giro},
					"direccion": {nil, *creado.Direccion}, "email": {nil, creado.Email},
					"lineaCredito": {nil, lineaInicial}, "lineaDisponible": {nil, lineaInicial}, "estado": {nil, "PENDIENTE"},
				}
			}},
		{name: "actualizarCliente", tipo: estado.AudClienteActualizado, entidad: estado.EntidadCliente,
			prep: func(t *testing.T, env *testkit.Env) func(context.Context) (int, error) {
				c := env.MustCrearCliente(t, lineaInicial)
				antes["razonSocial"], antes["giro"] = c.RazonSocial, *c.Giro
				return func(ctx context.Context) (int, error) {
					_, err := env.Svc.Clientes.Actualizar(ctx, c.ID, clientes.ActualizarInput{
						RazonSocial: ptr("Nombre Nuevo SpA"), Giro: ptr(""), Email: ptr(c.Email),
					})
					if err != nil {
						return 0, err
					}
					return c.ID, nil
				}
			},
			cambios: func(int) map[string]cambio {
				// The email was sent unchanged: not a change.
				return map[string]cambio{
					"razonSocial": {antes["razonSocial"], "Nombre Nuevo SpA"},
					"giro":        {antes["giro"], nil},
				}
			}},
		{name: "activarCliente", tipo: estado.AudClienteActivado, entidad: estado.EntidadCliente,
			prep: func(t *testing.T, env *testkit.Env) func(context.Context) (int, error) {
				c := env.MustCrearCliente(t, lineaInicial)
				return func(ctx context.Context) (int, error) {
					_, err := env.Svc.Clientes.Activar(ctx, c.ID)
					if err != nil {
						return 0, err
					}
					return c.ID, nil
				}
			},
			anterior: ptr("PENDIENTE"), nuevo: ptr("ACTIVO"),
			cambios: func(int) map[string]cambio { return map[string]cambio{"estado": {"PENDIENTE", "ACTIVO"}} }},
		{name: "suspenderCliente", tipo: estado.AudClienteSuspendido, entidad: estado.EntidadCliente,
			prep: func(t *testing.T, env *testkit.Env) func(context.Context) (int, error) {
				c := env.MustCrearClienteActivo(t, lineaInicial)
				return func(ctx context.Context) (int, error) {
					_, err := env.Svc.Clientes.Suspender(ctx, c.ID, ptr("Mora con la tesorería"))
					if err != nil {
						return 0, err
					}
					return c.ID, nil
				}
			},
			anterior: ptr("ACTIVO"), nuevo: ptr("SUSPENDIDO"),
			cambios: func(int) map[string]cambio {
				return map[string]cambio{"estado": {"ACTIVO", "SUSPENDIDO"}, "motivoEstado": {nil, "Mora con la tesorería"}}
			}},
		{name: "bloquearCliente", tipo: estado.AudClienteBloqueado, entidad: estado.EntidadCliente,
			prep: func(t *testing.T, env *testkit.Env) func(context.Context) (int, error) {
				c := env.MustCrearClienteActivo(t, lineaInicial)
				return func(ctx context.Context) (int, error) {
					_, err := env.Svc.Clientes.Bloquear(ctx, c.ID, "Fraude")
					if err != nil {
						return 0, err
					}
					return c.ID, nil
				}
			},
			anterior: ptr("ACTIVO"), nuevo: ptr("BLOQUEADO"),
			cambios: func(int) map[string]cambio {
				return map[string]cambio{"estado": {"ACTIVO", "BLOQUEADO"}, "motivoEstado": {nil, "Fraude"}}
			}},
		{name: "ajustarLineaCredito", tipo: estado.AudClienteLineaAjustada, entidad: estado.EntidadCliente,
			prep: func(t *testing.T, env *testkit.Env) func(context.Context) (int, error) {
				// 300000.00 of the line is in use: the available line moves
				// by the same delta, and the entry records both lines.
				c := env.MustCrearClienteActivo(t, lineaInicial)
				env.MustOperacionAprobada(t, c.ID, "300000.00")
				return func(ctx context.Context) (int, error) {
					_, err := env.Svc.Clientes.AjustarLineaCredito(ctx, c.ID, testkit.Dec(lineaNueva))
					if err != nil {
						return 0, err
					}
					return c.ID, nil
				}
			},
			cambios: func(int) map[string]cambio {
				return map[string]cambio{
					"lineaCredito":    {lineaInicial, lineaNueva},
					"lineaDisponible": {"700000.00", "9999999699999.99"},
				}
			}},
		{name: "fijarConcentracionMaxima", tipo: estado.AudClienteConcentracion, entidad: estado.EntidadCliente,
			prep: func(t *testing.T, env *testkit.Env) func(context.Context) (int, error) {
				c := env.MustCrearClienteActivo(t, lineaInicial)
				return func(ctx context.Context) (int, error) {
					_, err := env.Svc.Clientes.FijarConcentracionMaxima(ctx, c.ID, testkit.Dec("30"))
					if err != nil {
						return 0, err
					}
					return c.ID, nil
				}
			},
			cambios: func(int) map[string]cambio {
				// null before: the configured default.
				return map[string]cambio{"concentracionMaxima": {nil, "30.00"}}
			}},
		{name: "registrarFactura", tipo: estado.AudFacturaRegistrada, entidad: estado.EntidadFactura,
			prep: func(t *testing.T, env *testkit.Env) func(context.Context) (int, error) {
				// A deudor seen before: the first factura of a RUT writes
				// the deudor's DEUDOR_CREADO too (deudores tests).
				c := env.MustCrearClienteActivo(t, lineaInicial)
				d := env.MustCrearDeudor(t)
				return func(ctx context.Context) (int, error) {
					f, err := env.Svc.Facturas.Registrar(ctx, testkit.FacturaInputDe(c.ID, d.Rut, "1234.50", hoy.AddDate(0, 0, 30)))
					if err != nil {
						return 0, err
					}
					factura = f
					return f.ID, nil
				}
			},
			nuevo: ptr("DISPONIBLE"),
			cambios: func(int) map[string]cambio {
				return map[string]cambio{
					"clienteId": {nil, gid.Encode(factura.ClienteID)}, "numeroFactura": {nil, factura.NumeroFactura},
					"deudorId":  {nil, gid.Encode(factura.DeudorID)},
					"rutDeudor": {nil, factura.RutDeudor}, "razonSocialDeudor": {nil, factura.RazonSocialDeudor},
					"montoTotal":   {nil, "1234.50"},
					"fechaEmision": {nil, hoy.AddDate(0, 0, -30).Format(time.DateOnly)}, "fechaVencimiento": {nil, hoy.AddDate(0, 0, 30).Format(time.DateOnly)},
					"fechaRecepcion": {nil, hoy.AddDate(0, 0, -30).Format(time.DateOnly)},
					"estado":         {nil, "DISPONIBLE"}, "estadoAcuse": {nil, "PENDIENTE"},
				}
			}},
		{name: "registrarAcuseFactura", tipo: estado.AudFacturaAcuse, entidad: estado.EntidadFactura,
			prep: func(t *testing.T, env *testkit.Env) func(context.Context) (int, error) {
				// Received today: a claim is still in time.
				in := testkit.FacturaInput(env.MustCrearClienteActivo(t, lineaInicial).ID, "1000.00", testkit.Vence(30))
				in.FechaRecepcion = &hoy
				f, err := env.Svc.Facturas.Registrar(env.Ctx, in)
				require.NoError(t, err)
				return func(ctx context.Context) (int, error) {
					_, err := env.Svc.Facturas.RegistrarAcuse(ctx, f.ID, estado.AcuseReclamada, ptr("Mercadería no recibida"))
					if err != nil {
						return 0, err
					}
					return f.ID, nil
				}
			},
			cambios: func(int) map[string]cambio {
				return map[string]cambio{"estadoAcuse": {"PENDIENTE", "RECLAMADA"}, "motivoAcuse": {nil, "Mercadería no recibida"}}
			}},
		{name: "pagarFactura", tipo: estado.AudFacturaPagada, entidad: estado.EntidadFactura,
			prep: func(t *testing.T, env *testkit.Env) func(context.Context) (int, error) {
				_, ids := env.MustOperacionAprobada(t, env.MustCrearClienteActivo(t, lineaInicial).ID, "1000.00")
				return func(ctx context.Context) (int, error) {
					_, err := env.Svc.Facturas.Pagar(ctx, ids[0])
					if err != nil {
						return 0, err
					}
					return ids[0], nil
				}
			},
			anterior: ptr("CEDIDA"), nuevo: ptr("PAGADA"),
			cambios: func(int) map[string]cambio { return map[string]cambio{"estado": {"CEDIDA", "PAGADA"}} }},
		{name: "anularFactura", tipo: estado.AudFacturaAnulada, entidad: estado.EntidadFactura,
			prep: func(t *testing.T, env *testkit.Env) func(context.Context) (int, error) {
				f := env.MustRegistrarFactura(t, env.MustCrearClienteActivo(t, lineaInicial).ID, "1000.00", testkit.Vence(30))
				return func(ctx context.Context) (int, error) {
					_, err := env.Svc.Facturas.Anular(ctx, f.ID, ptr("Emitida por error"))
					if err != nil {
						return 0, err
					}
					return f.ID, nil
				}
			},
			anterior: ptr("DISPONIBLE"), nuevo: ptr("ANULADA"),
			cambios: func(int) map[string]cambio {
				return map[string]cambio{"estado": {"DISPONIBLE", "ANULADA"}, "motivoAnulacion": {nil, "Emitida por error"}}
			}},
		{name: "crearOperacion", tipo: estado.AudOperacionCreada, entidad: estado.EntidadOperacion,
			prep: func(t *testing.T, env *testkit.Env) func(context.Context) (int, error) {
				c := env.MustCrearClienteActivo(t, lineaInicial)
				_, ids := env.MustRegistrarFacturas(t, c.ID, "200000.00", "100000.00")
				facIDs["crearOperacion"] = ids
				return func(ctx context.Context) (int, error) {
					op, err := env.Svc.Operaciones.Crear(ctx, operaciones.CrearInput{ClienteID: c.ID, FacturaIDs: ids})
					if err != nil {
						return 0, err
					}
					antes["clienteId"] = gid.Encode(c.ID)
					return op.ID, nil
				}
			},
			nuevo: ptr("PENDIENTE"),
			cambios: func(int) map[string]cambio {
				return map[string]cambio{
					"clienteId": {nil, antes["clienteId"]}, "fechaSolicitud": {nil, instante},
					"montoTotalFacturas": {nil, "300000.00"}, "tasaDescuento": {nil, "2.00"}, "diasDescuento": {nil, float64(90)},
					"montoDescuento": {nil, "1500.00"}, "montoADesembolsar": {nil, "298500.00"}, "estado": {nil, "PENDIENTE"},
				}
			},
			detalle: func(t *testing.T, e *ent.EventoAuditoria) {
				facturasMovidas("crearOperacion", estado.FacturaDisponible, estado.FacturaEnProceso)(t, e)
				assert.Equal(t, []any{gid.Encode(facIDs["crearOperacion"][0]), gid.Encode(facIDs["crearOperacion"][1])}, e.Detalle["facturaIds"])
				assert.Equal(t, "298500.00", e.Detalle["montoADesembolsar"], "the event's snapshot too")
			}},
		{name: "aprobarOperacion", tipo: estado.AudOperacionAprobada, entidad: estado.EntidadOperacion,
			prep: func(t *testing.T, env *testkit.Env) func(context.Context) (int, error) {
				op := pendiente(t, env, "aprobarOperacion")
				return func(ctx context.Context) (int, error) {
					_, err := env.Svc.Operaciones.Aprobar(ctx, op.ID)
					if err != nil {
						return 0, err
					}
					return op.ID, nil
				}
			},
			anterior: ptr("PENDIENTE"), nuevo: ptr("APROBADA"),
			cambios: func(int) map[string]cambio {
				return map[string]cambio{"estado": {"PENDIENTE", "APROBADA"}, "fechaAprobacion": {nil, instante}}
			},
			detalle: func(t *testing.T, e *ent.EventoAuditoria) {
				facturasMovidas("aprobarOperacion", estado.FacturaEnProceso, estado.FacturaCedida)(t, e)
				assert.Equal(t, lineaInicial, e.Detalle["lineaDisponibleAnterior"], "the cliente's line it took")
				assert.Equal(t, "850000.00", e.Detalle["lineaDisponibleNueva"])
			}},
		{name: "rechazarOperacion", tipo: estado.AudOperacionRechazada, entidad: estado.EntidadOperacion,
			prep: func(t *testing.T, env *testkit.Env) func(context.Context) (int, error) {
				op := pendiente(t, env, "rechazarOperacion")
				return func(ctx context.Context) (int, error) {
					_, err := env.Svc.Operaciones.Rechazar(ctx, op.ID, "Deudor sin clasificación")
					if err != nil {
						return 0, err
					}
					return op.ID, nil
				}
			},
			anterior: ptr("PENDIENTE"), nuevo: ptr("RECHAZADA"),
			cambios: func(int) map[string]cambio {
				return map[string]cambio{"estado": {"PENDIENTE", "RECHAZADA"}, "motivoRechazo": {nil, "Deudor sin clasificación"}}
			},
			detalle: facturasMovidas("rechazarOperacion", estado.FacturaEnProceso, estado.FacturaDisponible)},
		{name: "desembolsarOperacion", tipo: estado.AudOperacionDesembolsada, entidad: estado.EntidadOperacion,
			prep: func(t *testing.T, env *testkit.Env) func(context.Context) (int, error) {
				op, _ := env.MustOperacionAprobada(t, env.MustCrearClienteActivo(t, lineaInicial).ID, "1000.00")
				return func(ctx context.Context) (int, error) {
					_, err := env.Svc.Operaciones.Desembolsar(ctx, op.ID)
					if err != nil {
						return 0, err
					}
					return op.ID, nil
				}
			},
			anterior: ptr("APROBADA"), nuevo: ptr("DESEMBOLSADA"),
			cambios: func(int) map[string]cambio {
				return map[string]cambio{"estado": {"APROBADA", "DESEMBOLSADA"}, "fechaDesembolso": {nil, instante}}
			},
			detalle: func(t *testing.T, e *ent.EventoAuditoria) {
				assert.NotContains(t, e.Detalle, "facturas", "its facturas did not move")
			}},
		{name: "finalizarOperacion", tipo: estado.AudOperacionFinalizada, entidad: estado.EntidadOperacion,
			prep: func(t *testing.T, env *testkit.Env) func(context.Context) (int, error) {
				op, ids := env.MustOperacionDesembolsada(t, env.MustCrearClienteActivo(t, lineaInicial).ID, "1000.00")
				env.MustPagarTodas(t, ids...)
				return func(ctx context.Context) (int, error) {
					_, err := env.Svc.Operaciones.Finalizar(ctx, op.ID)
					if err != nil {
						return 0, err
					}
					return op.ID, nil
				}
			},
			anterior: ptr("DESEMBOLSADA"), nuevo: ptr("FINALIZADA"),
			cambios: func(int) map[string]cambio {
				return map[string]cambio{"estado": {"DESEMBOLSADA", "FINALIZADA"}, "fechaFinalizacion": {nil, instante}}
			},
			detalle: func(t *testing.T, e *ent.EventoAuditoria) {
				assert.Equal(t, "999000.00", e.Detalle["lineaDisponibleAnterior"])
				assert.Equal(t, lineaInicial, e.Detalle["lineaDisponibleNueva"])
			}},
		{name: "actualizarDeudor", tipo: estado.AudDeudorActualizado, entidad: estado.EntidadDeudor,
			prep: func(t *testing.T, env *testkit.Env) func(context.Context) (int, error) {
				d := env.MustCrearDeudor(t)
				antes["razonSocialDeudor"] = d.RazonSocial
				return func(ctx context.Context) (int, error) {
					_, err := env.Svc.Deudores.Actualizar(ctx, d.ID, deudores.ActualizarInput{RazonSocial: ptr("Deudor Renombrado SpA")})
					if err != nil {
						return 0, err
					}
					return d.ID, nil
				}
			},
			cambios: func(int) map[string]cambio {
				return map[string]cambio{"razonSocial": {antes["razonSocialDeudor"], "Deudor Renombrado SpA"}}
			}},
		{name: "fijarLineaExposicion", tipo: estado.AudDeudorLineaFijada, entidad: estado.EntidadDeudor,
			prep: func(t *testing.T, env *testkit.Env) func(context.Context) (int, error) {
				// 300000.00 at risk on the deudor: the entry records it.
				c := env.MustCrearClienteActivo(t, lineaInicial)
				op, ids := env.MustOperacionPendiente(t, c.ID, "300000.00")
				_, err := env.Svc.Operaciones.Aprobar(env.Ctx, op.ID)
				require.NoError(t, err)
				d := env.DeudorDe(t, ids[0])
				return func(ctx context.Context) (int, error) {
					_, err := env.Svc.Deudores.FijarLineaExposicion(ctx, d.ID, testkit.Ptr(testkit.Dec("500000")))
					if err != nil {
						return 0, err
					}
					return d.ID, nil
				}
			},
			cambios: func(int) map[string]cambio {
				return map[string]cambio{"lineaExposicion": {nil, "500000.00"}}
			},
			detalle: func(t *testing.T, e *ent.EventoAuditoria) {
				assert.Equal(t, "300000.00", e.Detalle["exposicion"], "the exposure when the limit was set")
			}},
		{name: "bloquearDeudor", tipo: estado.AudDeudorBloqueado, entidad: estado.EntidadDeudor,
			prep: func(t *testing.T, env *testkit.Env) func(context.Context) (int, error) {
				d := env.MustCrearDeudor(t)
				return func(ctx context.Context) (int, error) {
					_, err := env.Svc.Deudores.Bloquear(ctx, d.ID, "Quiebra")
					if err != nil {
						return 0, err
					}
					return d.ID, nil
				}
			},
			anterior: ptr("ACTIVO"), nuevo: ptr("BLOQUEADO"),
			cambios: func(int) map[string]cambio {
				return map[string]cambio{"estado": {"ACTIVO", "BLOQUEADO"}, "motivoEstado": {nil, "Quiebra"}}
			}},
		{name: "activarDeudor", tipo: estado.AudDeudorActivado, entidad: estado.EntidadDeudor,
			prep: func(t *testing.T, env *testkit.Env) func(context.Context) (int, error) {
				d := env.MustCrearDeudor(t)
				_, err := env.Svc.Deudores.Bloquear(env.Ctx, d.ID, "Quiebra")
				require.NoError(t, err)
				return func(ctx context.Context) (int, error) {
					_, err := env.Svc.Deudores.Activar(ctx, d.ID)
					if err != nil {
						return 0, err
					}
					return d.ID, nil
				}
			},
			anterior: ptr("BLOQUEADO"), nuevo: ptr("ACTIVO"),
			cambios: func(int) map[string]cambio {
				return map[string]cambio{"estado": {"BLOQUEADO", "ACTIVO"}, "motivoEstado": {"Quiebra", nil}}
			}},
	}
}

// TestCadaMutacionEscribeUnaEntrada ensures that each of the 20 mutations
// writes exactly one audit entry, in its transaction: who (the request's
// subject), under which request and correlation id, what kind of change to
// which entity, the states before and after, and the old and new value of
// every field it changed (and of none it did not).
func TestCadaMutacionEscribeUnaEntrada(t *testing.T) {
	testkit.EachDB(t, func(t *testing.T, db *database.DB) {
		env := testkit.NewEnv(t, db)
		casos := mutaciones()
		require.Len(t, casos, 20, "the 20 mutations of docs/api.md")
		for i, m := range casos {
			t.Run(m.name, func(t *testing.T) {
				reqID, corr := fmt.Sprintf("req-%02d", i), fmt.Sprintf("corr-%02d", i)
				ctx := como("auditada@banpro.cl", reqID, corr)
				mutate := m.prep(t, env)
				before := ultimoID(t, db)
				beforeOutbox := ultimoEventoOutbox(t, db)
				id, err := mutate(ctx)
				require.NoError(t, err)
				evs := desde(t, db, before)
				require.Len(t, evs, 1, "exactly one entry: %v", evs)
				e := evs[0]

				// Its integration event, in the same transaction: one
				// outbox row, of the type the entry's tipo maps to, about
				// the same entity, under the same request.
				out, err := db.Client.OutboxEvento.Query().Where(outboxevento.IDGT(beforeOutbox)).All(context.Background())
				require.NoError(t, err)
				require.Len(t, out, 1, "exactly one integration event")
				assert.Equal(t, m.tipo.TipoIntegracion(), out[0].Tipo)
				assert.Equal(t, gid.Encode(id), out[0].Sujeto)
				assert.Equal(t, reqID, out[0].RequestID)
				var sobre eventos.Sobre
				require.NoError(t, json.Unmarshal([]byte(out[0].Cuerpo), &sobre))
				assert.Equal(t, out[0].EventoID, sobre.ID)
				assert.True(t, sobre.Time.Equal(env.Clock.Now()), "the event is dated like its entry: %s", sobre.Time)
				var datos map[string]any
				require.NoError(t, json.Unmarshal(sobre.Data, &datos))
				_, anterior := datos["linea_credito_anterior"]
				assert.Equal(t, m.tipo == estado.AudClienteLineaAjustada, anterior, "only a line adjustment names the line before")
				if m.entidad == estado.EntidadOperacion {
					assert.Equal(t, gid.Encode(id), datos["operacion_id"])
					assert.NotEmpty(t, datos["factura_ids"], "an operación's event names its invoices")
				}
				assert.Equal(t, m.tipo, e.Tipo)
				assert.Equal(t, m.entidad, e.Entidad)
				assert.Equal(t, id, e.EntidadID)
				assert.Equal(t, "auditada@banpro.cl", e.Actor)
				assert.Equal(t, reqID, e.RequestID)
				require.NotNil(t, e.CorrelationID)
				assert.Equal(t, corr, *e.CorrelationID)
				assert.True(t, e.Fecha.Equal(env.Clock.Now()), "dated with the transaction's clock reading: %s", e.Fecha)
				assert.Equal(t, m.anterior, e.EstadoAnterior, "estadoAnterior")
				assert.Equal(t, m.nuevo, e.EstadoNuevo, "estadoNuevo")
				assert.Nil(t, e.TraceID, "no span in the context: no trace id")
				assert.Equal(t, m.cambios(id), cambiosDe(t, e))
				if m.detalle != nil {
					m.detalle(t, e)
				}
				switch m.entidad {
				case estado.EntidadCliente:
					assert.Equal(t, &id, e.ClienteID)
				case estado.EntidadFactura:
					assert.Equal(t, &id, e.FacturaID)
				case estado.EntidadOperacion:
					assert.Equal(t, &id, e.OperacionID)
				case estado.EntidadDeudor:
					assert.Equal(t, &id, e.DeudorID)
					assert.Equal(t, gid.Encode(id), datos["deudor_id"])
				}
			})
		}
		testkit.RequireVerificado(t, db)
	})
}

// errInyectado is the failure the hook injects.
var errInyectado = errors.New("falla inyectada en la auditoría")

// fallaAlAuditar makes every audit entry write fail while armed is true.
// The entry is the last write of every mutation, so everything else the
// mutation did is already in its transaction.
func fallaAlAuditar(db *database.DB, armed *atomic.Bool) {
	db.Client.EventoAuditoria.Use(func(next ent.Mutator) ent.Mutator {
		return hook.EventoAuditoriaFunc(func(ctx context.Context, m *ent.EventoAuditoriaMutation) (ent.Value, error) {
			if armed.Load() {
				return nil, errInyectado
			}
			return next.Mutate(ctx, m)
		})
	})
}

// foto is everything a mutation may change, the audit trail and the
// clientes' data fields included: two equal fotos mean nothing changed.
func foto(t *testing.T, env *testkit.Env) string {
	t.Helper()
	ctx := context.Background()
	out := env.Snapshot(t)
	cs, err := env.DB.Client.Cliente.Query().Order(ent.Asc("id")).All(ctx)
	require.NoError(t, err)
	for _, c := range cs {
		out += fmt.Sprintf("datos %d %s %s %v\n", c.ID, c.RazonSocial, c.Email, c.Giro != nil)
	}
	n, err := env.DB.Client.EventoAuditoria.Query().Count(ctx)
	require.NoError(t, err)
	nEventos, err := env.DB.Client.OutboxEvento.Query().Count(ctx)
	require.NoError(t, err)
	return out + fmt.Sprintf("auditoria %d\noutbox %d\n", n, nEventos)
}

// ultimoEventoOutbox is the id of the latest outbox event (0 when none).
func ultimoEventoOutbox(t *testing.T, db *database.DB) int {
	t.Helper()
	id, err := db.Client.OutboxEvento.Query().Aggregate(ent.Max(outboxevento.FieldID)).Int(context.Background())
	if err != nil {
		return 0 // no rows: MAX is NULL
	}
	return id
}

// TestUnaMutacionFallidaNoDejaEntrada ensures atomicity both ways: a
// mutation whose audit entry cannot be written changes nothing (the entry
// is part of its transaction), and a refused mutation writes no entry.
func TestUnaMutacionFallidaNoDejaEntrada(t *testing.T) {
	testkit.EachDB(t, func(t *testing.T, db *database.DB) {
		env := testkit.NewEnv(t, db)
		var armed atomic.Bool
		fallaAlAuditar(db, &armed)

		t.Run("sin_entrada_no_hay_cambio", func(t *testing.T) {
			for _, m := range mutaciones() {
				t.Run(m.name, func(t *testing.T) {
					mutate := m.prep(t, env)
					before := foto(t, env)
					armed.Store(true)
					_, err := mutate(como("auditada@banpro.cl", "req-falla", "corr-falla"))
					armed.Store(false)
					require.ErrorIs(t, err, errInyectado)
					assert.Equal(t, apperror.Internal, apperror.CodeOf(err))
					assert.Equal(t, before, foto(t, env), "nothing changed: no row, no event, no entry")
				})
			}
			testkit.RequireVerificado(t, db)
		})

		t.Run("rechazada_no_escribe_entrada", func(t *testing.T) {
			ctx := como("auditada@banpro.cl", "req-rechazo", "corr-rechazo")
			bloqueado := env.MustCrearClienteActivo(t, lineaInicial)
			_, err := env.Svc.Clientes.Bloquear(env.Ctx, bloqueado.ID, "Fraude")
			require.NoError(t, err)
			activo := env.MustCrearClienteActivo(t, lineaInicial)
			_, usada := env.MustOperacionAprobada(t, activo.ID, "300000.00")
			pendiente, _ := env.MustOperacionPendiente(t, activo.ID, "1000.00")
			refused := map[string]func() error{
				"rut_repetido": func() error {
					in := testkit.ClienteInput(lineaInicial)
					in.Rut = activo.Rut
					_, err := env.Svc.Clientes.Crear(ctx, in)
					return err
				},
				"activar_bloqueado": func() error { _, err := env.Svc.Clientes.Activar(ctx, bloqueado.ID); return err },
				"linea_bajo_la_usada": func() error {
					_, err := env.Svc.Clientes.AjustarLineaCredito(ctx, activo.ID, testkit.Dec("1.00"))
					return err
				},
				"factura_de_bloqueado": func() error {
					_, err := env.Svc.Facturas.Registrar(ctx, testkit.FacturaInput(bloqueado.ID, "10.00", testkit.Vence(30)))
					return err
				},
				"anular_cedida": func() error { _, err := env.Svc.Facturas.Anular(ctx, usada[0], nil); return err },
				"desembolsar_pendiente": func() error {
					_, err := env.Svc.Operaciones.Desembolsar(ctx, pendiente.ID)
					return err
				},
				"activar_deudor_activo": func() error {
					_, err := env.Svc.Deudores.Activar(ctx, env.DeudorDe(t, usada[0]).ID)
					return err
				},
				"linea_negativa": func() error {
					_, err := env.Svc.Deudores.FijarLineaExposicion(ctx, env.DeudorDe(t, usada[0]).ID, testkit.Ptr(testkit.Dec("-1")))
					return err
				},
				"concentracion_cero": func() error {
					_, err := env.Svc.Clientes.FijarConcentracionMaxima(ctx, activo.ID, decimal.Zero)
					return err
				},
				"acuse_pendiente": func() error {
					_, err := env.Svc.Facturas.RegistrarAcuse(ctx, usada[0], estado.AcusePendiente, nil)
					return err
				},
			}
			for name, do := range refused {
				t.Run(name, func(t *testing.T) {
					before := foto(t, env)
					require.Error(t, do())
					assert.Equal(t, before, foto(t, env))
				})
			}
		})
	})
}

// TestLaAuditoriaEsSoloInsercion ensures that the database itself refuses
// to change or remove an audit entry, whoever asks: UPDATE and DELETE (and
// TRUNCATE in PostgreSQL), through SQL or through ent.
func TestLaAuditoriaEsSoloInsercion(t *testing.T) {
	testkit.EachDB(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		env := testkit.NewEnv(t, db)
		c := env.MustCrearClienteActivo(t, lineaInicial)
		e, err := db.Client.EventoAuditoria.Query().Where(eventoauditoria.EntidadID(c.ID)).First(ctx)
		require.NoError(t, err)
		n, err := db.Client.EventoAuditoria.Query().Count(ctx)
		require.NoError(t, err)

		for name, stmt := range map[string]string{
			"update":       fmt.Sprintf("UPDATE eventos_auditoria SET actor = 'otro' WHERE id = %d", e.ID),
			"update_todas": "UPDATE eventos_auditoria SET detalle = '{}'",
			"delete":       fmt.Sprintf("DELETE FROM eventos_auditoria WHERE id = %d", e.ID),
			"delete_todas": "DELETE FROM eventos_auditoria",
		} {
			_, err := db.SQL.ExecContext(ctx, stmt)
			require.Error(t, err, name)
			assert.Contains(t, err.Error(), "solo inserción", name)
		}
		if db.Dialect == "postgres" {
			_, err := db.SQL.ExecContext(ctx, "TRUNCATE eventos_auditoria")
			require.Error(t, err)
			assert.Contains(t, err.Error(), "solo inserción")
		}
		assert.Error(t, db.Client.EventoAuditoria.DeleteOneID(e.ID).Exec(ctx), "through ent too")
		// Nor can an audited cliente be deleted: its entries would lose it.
		assert.Error(t, db.Client.Cliente.DeleteOneID(c.ID).Exec(ctx))

		got, err := db.Client.EventoAuditoria.Get(ctx, e.ID)
		require.NoError(t, err)
		assert.Equal(t, e.Actor, got.Actor, "unchanged")
		after, err := db.Client.EventoAuditoria.Query().Count(ctx)
		require.NoError(t, err)
		assert.Equal(t, n, after, "none removed")
	})
}

// TestMarcarVencidasAudita ensures that the overdue job writes one
// FACTURA_VENCIDA entry per factura it marks, as actor sistema, all under
// the one request id of its run.
func TestMarcarVencidasAudita(t *testing.T) {
	testkit.EachDB(t, func(t *testing.T, db *database.DB) {
		env := testkit.NewEnv(t, db)
		c := env.MustCrearClienteActivo(t, lineaInicial)
		disponible := env.MustRegistrarFactura(t, c.ID, "1000.00", testkit.Vence(1))
		_, cedidas := env.MustOperacionAprobada(t, c.ID, "2000.00")
		env.MustRegistrarFactura(t, c.ID, "3000.00", testkit.Vence(400)) // not yet due
		env.Clock.Advance(100 * 24 * time.Hour)
		before := ultimoID(t, db)

		ctx := auth.NewContext(context.Background(), auth.Principal{Subject: auth.Sistema})
		n, err := env.Svc.Facturas.MarcarVencidas(ctx, testkit.Santiago)
		require.NoError(t, err)
		require.Equal(t, 2, n)

		evs := desde(t, db, before)
		require.Len(t, evs, 2)
		got := map[int]string{}
		for _, e := range evs {
			assert.Equal(t, estado.AudFacturaVencida, e.Tipo)
			assert.Equal(t, auth.Sistema, e.Actor)
			assert.Equal(t, evs[0].RequestID, e.RequestID, "one run, one request id")
			assert.Nil(t, e.CorrelationID)
			require.NotNil(t, e.EstadoAnterior)
			assert.Equal(t, "VENCIDA", *e.EstadoNuevo)
			assert.Equal(t, map[string]cambio{"estado": {*e.EstadoAnterior, "VENCIDA"}}, cambiosDe(t, e))
			got[e.EntidadID] = *e.EstadoAnterior
		}
		assert.Equal(t, map[int]string{disponible.ID: "DISPONIBLE", cedidas[0]: "CEDIDA"}, got)
		testkit.RequireVerificado(t, db)
	})
}

// TestLaEntradaLlevaLaTraza ensures that a change made under a traced
// request records the request's trace id, so the entry leads to its spans
// and log lines.
func TestLaEntradaLlevaLaTraza(t *testing.T) {
	testkit.EachDB(t, func(t *testing.T, db *database.DB) {
		env := testkit.NewEnv(t, db)
		c := env.MustCrearClienteActivo(t, lineaInicial)
		tp := sdktrace.NewTracerProvider()
		t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
		ctx, span := tp.Tracer("prueba").Start(como("trazada@banpro.cl", "req-traza", ""), "ajustar")
		before := ultimoID(t, db)
		_, err := env.Svc.Clientes.AjustarLineaCredito(ctx, c.ID, decimal.RequireFromString("2000000.00"))
		span.End()
		require.NoError(t, err)
		evs := desde(t, db, before)
		require.Len(t, evs, 1)
		require.NotNil(t, evs[0].TraceID)
		assert.Equal(t, span.SpanContext().TraceID().String(), *evs[0].TraceID)
	})
}

// TestAjustesConcurrentesEncadenados ensures that concurrent adjustments
// of one line by different actors each leave one entry, and that the
// entries, in id order, chain: each one's old line is the previous one's
// new line, and the last one's is the line the cliente has.
func TestAjustesConcurrentesEncadenados(t *testing.T) {
	db := testkit.Postgres(t)
	env := testkit.NewEnv(t, db)
	c := env.MustCrearClienteActivo(t, lineaInicial)
	before := ultimoID(t, db)
	const n = 20
	errs := testkit.Race(n, func(i int) error {
		ctx := como(fmt.Sprintf("riesgo-%02d@banpro.cl", i), fmt.Sprintf("req-%02d", i), "")
		_, err := env.Svc.Clientes.AjustarLineaCredito(ctx, c.ID, decimal.NewFromInt(int64(2_000_000+i*1000)))
		return err
	})
	assert.Equal(t, map[string]int{"OK": n}, testkit.Tally(errs))

	evs := desde(t, db, before)
	require.Len(t, evs, n)
	actors := map[string]bool{}
	prev := lineaInicial
	for _, e := range evs {
		assert.Equal(t, estado.AudClienteLineaAjustada, e.Tipo)
		actors[e.Actor] = true
		linea := cambiosDe(t, e)["lineaCredito"]
		assert.Equal(t, prev, linea.anterior, "entry %d starts where the previous one ended", e.ID)
		prev = linea.nuevo.(string)
	}
	assert.Len(t, actors, n, "each adjustment names its own actor")
	assert.Equal(t, prev, env.Cliente(t, c.ID).LineaCredito.StringFixed(2))
	testkit.RequireVerificado(t, db)
}
