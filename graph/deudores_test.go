package graph_test

import (
	"fmt"
	"testing"
	"time"

	"entgo.io/ent/dialect"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banpro/factoring/internal/apperror"
	"github.com/banpro/factoring/internal/database"
	"github.com/banpro/factoring/internal/gid"
	"github.com/banpro/factoring/internal/testkit"
)

const missingDeudor = 68<<32 + 999_999

type deudorGQL struct {
	ID              string  `json:"id"`
	Rut             string  `json:"rut"`
	RazonSocial     string  `json:"razonSocial"`
	Estado          string  `json:"estado"`
	LineaExposicion *string `json:"lineaExposicion"`
	Exposicion      string  `json:"exposicion"`
	MotivoEstado    *string `json:"motivoEstado"`
	Facturas        testkit.Conn[struct {
		NumeroFactura string `json:"numeroFactura"`
		Cliente       struct{ Rut string }
	}] `json:"facturas"`
	Eventos testkit.Conn[struct{ Tipo string }] `json:"eventos"`
}

const deudorCampos = `id rut razonSocial estado lineaExposicion exposicion motivoEstado
  facturas(first: 10) { totalCount edges { node { numeroFactura cliente { rut } } } }
  eventos { edges { node { tipo } } }`

// TestDeudoresGraphQL reads deudores through the API: the list with its
// filters and order, deudorPorRut in any spelling, node, each one's
// facturas, history and exposure, and Factura.deudor.
func TestDeudoresGraphQL(t *testing.T) {
	testkit.EachDB(t, func(t *testing.T, db *database.DB) {
		env := testkit.NewEnv(t, db)
		client, _ := testkit.Serve(t, db, testkit.ServeOptions{})
		a, b := env.MustCrearClienteActivo(t, "10000000.00"), env.MustCrearClienteActivo(t, "10000000.00")
		rut := testkit.NewRUT()
		op, ids := env.MustOperacionPendienteDe(t, a.ID, rut, "300000.00")
		_, err := env.Svc.Operaciones.Aprobar(env.Ctx, op.ID)
		require.NoError(t, err)
		env.MustRegistrarFacturaDe(t, b.ID, rut, "50.00")
		d := env.DeudorDe(t, ids[0])
		_, err = env.Svc.Deudores.FijarLineaExposicion(env.Ctx, d.ID, testkit.Ptr(testkit.Dec("1000000")))
		require.NoError(t, err)
		otro := env.DeudorDe(t, env.MustRegistrarFactura(t, b.ID, "10.00", testkit.Vence(30)).ID)
		_, err = env.Svc.Deudores.Bloquear(env.Ctx, otro.ID, "Quiebra")
		require.NoError(t, err)

		t.Run("deudorPorRut_en_cualquier_grafia", func(t *testing.T) {
			for _, spelling := range testkit.Spellings(rutBody(t, d.Rut)) {
				got := testkit.Data[struct{ DeudorPorRut deudorGQL }](t, client,
					`query($rut: String!) { deudorPorRut(rut: $rut) { `+deudorCampos+` } }`, map[string]any{"rut": spelling}).DeudorPorRut
				assert.Equal(t, gid.Encode(d.ID), got.ID, spelling)
				assert.Equal(t, d.Rut, got.Rut)
				assert.Equal(t, "ACTIVO", got.Estado)
				assert.Equal(t, "1000000.00", *got.LineaExposicion)
				assert.Equal(t, "300000.00", got.Exposicion)
				assert.Equal(t, 2, got.Facturas.TotalCount, "from both clientes")
				assert.Equal(t, []string{"DEUDOR_CREADO", "DEUDOR_LINEA_FIJADA"}, []string{got.Eventos.Edges[0].Node.Tipo, got.Eventos.Edges[1].Node.Tipo})
			}
			e := testkit.RequireGQLError(t, client.Do(`{ deudorPorRut(rut: "12.345.678-9") { id } }`, nil), apperror.Validation, "rut")
			assert.NotEmpty(t, e.Message)
			testkit.RequireGQLError(t, client.Do(`{ deudorPorRut(rut: "11.111.111-1") { id } }`, nil), apperror.NotFound)
		})

		t.Run("deudores_filtra_y_ordena", func(t *testing.T) {
			got := testkit.Data[struct{ Deudores testkit.Conn[deudorGQL] }](t, client,
				`{ deudores(where: {estado: BLOQUEADO}) { totalCount edges { node { `+deudorCampos+` } } } }`, nil).Deudores
			require.Equal(t, 1, got.TotalCount)
			n := got.Nodes()[0]
			assert.Equal(t, otro.Rut, n.Rut)
			assert.Equal(t, "Quiebra", *n.MotivoEstado)
			assert.Nil(t, n.LineaExposicion, "no limit")
			assert.Equal(t, "0.00", n.Exposicion)

			all := testkit.Data[struct{ Deudores testkit.Conn[deudorGQL] }](t, client,
				`{ deudores(orderBy: {field: RUT, direction: ASC}, where: {hasFacturasWith: {hasClienteWith: {rut: "`+b.Rut+`"}}}) {
				  totalCount edges { node { rut exposicion } } } }`, nil).Deudores
			require.Equal(t, 2, all.TotalCount)
			want := map[string]string{d.Rut: "300000.00", otro.Rut: "0.00"}
			for _, n := range all.Nodes() {
				assert.Equal(t, want[n.Rut], n.Exposicion, n.Rut)
			}
			conLinea := testkit.Data[struct{ Deudores testkit.Conn[deudorGQL] }](t, client,
				`{ deudores(where: {lineaExposicionNotNil: true}) { totalCount } }`, nil).Deudores
			assert.Equal(t, 1, conLinea.TotalCount)
		})

		t.Run("factura_y_nodo", func(t *testing.T) {
			got := testkit.Data[struct {
				Factura struct {
					FechaRecepcion string
					EstadoAcuse    string
					Deudor         deudorGQL
				}
				Node struct{ Rut string }
			}](t, client, `query($f: ID!, $d: ID!) {
				factura(id: $f) { fechaRecepcion estadoAcuse deudor { id rut exposicion } }
				node(id: $d) { ... on Deudor { rut } } }`, map[string]any{"f": gid.Encode(ids[0]), "d": gid.Encode(d.ID)})
			assert.Equal(t, gid.Encode(d.ID), got.Factura.Deudor.ID)
			assert.Equal(t, "300000.00", got.Factura.Deudor.Exposicion)
			assert.Equal(t, "PENDIENTE", got.Factura.EstadoAcuse)
			assert.Equal(t, env.Factura(t, ids[0]).FechaEmision.Format(time.DateOnly), got.Factura.FechaRecepcion)
			assert.Equal(t, d.Rut, got.Node.Rut)
			testkit.RequireGQLError(t, client.Do(`query($d: ID!) { node(id: $d) { id } }`, map[string]any{"d": gid.Encode(missingDeudor)}), apperror.NotFound)
		})

		t.Run("concentracion_del_cliente", func(t *testing.T) {
			q := `query($c: ID!) { cliente(id: $c) { concentracionMaxima } }`
			got := testkit.Data[struct {
				Cliente struct{ ConcentracionMaxima string }
			}](t, client, q, map[string]any{"c": gid.Encode(a.ID)})
			assert.Equal(t, "100.00", got.Cliente.ConcentracionMaxima, "the configured default: no cap")
			cfg := testkit.Config(t)
			cfg.ConcentracionMaxima = testkit.Dec("35.5")
			otroServidor, _ := testkit.Serve(t, db, testkit.ServeOptions{Config: &cfg})
			got = testkit.Data[struct {
				Cliente struct{ ConcentracionMaxima string }
			}](t, otroServidor, q, map[string]any{"c": gid.Encode(a.ID)})
			assert.Equal(t, "35.50", got.Cliente.ConcentracionMaxima, "FACTORING_CONCENTRACION_MAXIMA")
		})
	})
}

// rutBody is the number of a canonical RUT, for testkit.Spellings.
func rutBody(t *testing.T, canonical string) int {
	t.Helper()
	var n int
	digits := ""
	for _, r := range canonical[:len(canonical)-2] {
		if r >= '0' && r <= '9' {
			digits += string(r)
		}
	}
	_, err := fmt.Sscan(digits, &n)
	require.NoError(t, err)
	return n
}

// TestMutacionesDeudoresGraphQL runs the risk mutations through the whole
// API: each one's success, and every error path with extensions.code and
// extensions.fields.
func TestMutacionesDeudoresGraphQL(t *testing.T) {
	testkit.EachDB(t, func(t *testing.T, db *database.DB) {
		env := testkit.NewEnv(t, db)
		client, _ := testkit.Serve(t, db, testkit.ServeOptions{})
		d := env.MustCrearDeudor(t)
		id := map[string]any{"id": gid.Encode(d.ID)}
		falta := map[string]any{"id": gid.Encode(missingDeudor)}

		t.Run("fijarLineaExposicion", func(t *testing.T) {
			q := `mutation($id: ID!, $l: Decimal) { fijarLineaExposicion(id: $id, lineaExposicion: $l) { lineaExposicion } }`
			got := testkit.Data[struct{ FijarLineaExposicion deudorGQL }](t, client, q, map[string]any{"id": gid.Encode(d.ID), "l": "2500000.5"})
			assert.Equal(t, "2500000.50", *got.FijarLineaExposicion.LineaExposicion)
			got = testkit.Data[struct{ FijarLineaExposicion deudorGQL }](t, client, q, map[string]any{"id": gid.Encode(d.ID), "l": nil})
			assert.Nil(t, got.FijarLineaExposicion.LineaExposicion, "null removes it")
			testkit.RequireGQLError(t, client.Do(q, map[string]any{"id": gid.Encode(d.ID), "l": "-1"}), apperror.Validation, "lineaExposicion")
			testkit.RequireGQLError(t, client.Do(q, map[string]any{"id": gid.Encode(d.ID), "l": "1.001"}), apperror.Validation, "lineaExposicion")
			testkit.RequireGQLError(t, client.Do(q, map[string]any{"id": gid.Encode(missingDeudor), "l": "1"}), apperror.NotFound)
		})

		t.Run("bloquear_y_activar", func(t *testing.T) {
			bloquear := `mutation($id: ID!, $m: String!) { bloquearDeudor(id: $id, motivo: $m) { estado motivoEstado } }`
			activar := `mutation($id: ID!) { activarDeudor(id: $id) { estado motivoEstado } }`
			testkit.RequireGQLError(t, client.Do(bloquear, map[string]any{"id": gid.Encode(d.ID), "m": ""}), apperror.Validation, "motivo")
			e := testkit.RequireGQLError(t, client.Do(activar, id), apperror.Conflict)
			assert.Contains(t, e.Message, "ACTIVO")
			got := testkit.Data[struct{ BloquearDeudor deudorGQL }](t, client, bloquear, map[string]any{"id": gid.Encode(d.ID), "m": "Quiebra"})
			assert.Equal(t, "BLOQUEADO", got.BloquearDeudor.Estado)
			e = testkit.RequireGQLError(t, client.Do(bloquear, map[string]any{"id": gid.Encode(d.ID), "m": "Otra"}), apperror.Conflict)
			assert.Contains(t, e.Message, "BLOQUEADO")
			back := testkit.Data[struct{ ActivarDeudor deudorGQL }](t, client, activar, id)
			assert.Equal(t, "ACTIVO", back.ActivarDeudor.Estado)
			assert.Nil(t, back.ActivarDeudor.MotivoEstado)
			testkit.RequireGQLError(t, client.Do(activar, falta), apperror.NotFound)
			testkit.RequireGQLError(t, client.Do(bloquear, map[string]any{"id": gid.Encode(missingDeudor), "m": "x"}), apperror.NotFound)
		})

		t.Run("actualizarDeudor", func(t *testing.T) {
			q := `mutation($id: ID!, $in: ActualizarDeudorInput!) { actualizarDeudor(id: $id, input: $in) { razonSocial } }`
			got := testkit.Data[struct{ ActualizarDeudor deudorGQL }](t, client, q,
				map[string]any{"id": gid.Encode(d.ID), "in": map[string]any{"razonSocial": "Deudor Renombrado SpA"}})
			assert.Equal(t, "Deudor Renombrado SpA", got.ActualizarDeudor.RazonSocial)
			testkit.RequireGQLError(t, client.Do(q, map[string]any{"id": gid.Encode(d.ID), "in": map[string]any{"razonSocial": " "}}),
				apperror.Validation, "razonSocial")
			testkit.RequireGQLError(t, client.Do(q, map[string]any{"id": gid.Encode(missingDeudor), "in": map[string]any{}}), apperror.NotFound)
		})

		t.Run("fijarConcentracionMaxima", func(t *testing.T) {
			c := env.MustCrearClienteActivo(t, "1000000")
			q := `mutation($c: ID!, $p: Decimal!) { fijarConcentracionMaxima(clienteId: $c, porcentaje: $p) { concentracionMaxima } }`
			got := testkit.Data[struct {
				FijarConcentracionMaxima struct{ ConcentracionMaxima string }
			}](t, client, q,
				map[string]any{"c": gid.Encode(c.ID), "p": "25"})
			assert.Equal(t, "25.00", got.FijarConcentracionMaxima.ConcentracionMaxima)
			for _, bad := range []string{"0", "100.01", "-5"} {
				testkit.RequireGQLError(t, client.Do(q, map[string]any{"c": gid.Encode(c.ID), "p": bad}), apperror.Validation, "porcentaje")
			}
			testkit.RequireGQLError(t, client.Do(q, map[string]any{"c": gid.Encode(missingCliente), "p": "10"}), apperror.NotFound)
		})

		t.Run("registrarAcuseFactura", func(t *testing.T) {
			c := env.MustCrearClienteActivo(t, "1000000")
			in := testkit.FacturaInput(c.ID, "1000.00", testkit.Vence(30))
			in.FechaRecepcion = &testkit.HoyFecha
			f, err := env.Svc.Facturas.Registrar(env.Ctx, in)
			require.NoError(t, err)
			q := `mutation($id: ID!, $e: EstadoAcuse!, $m: String) { registrarAcuseFactura(id: $id, estado: $e, motivo: $m) { estadoAcuse motivoAcuse estado } }`
			vars := func(e string, m any) map[string]any { return map[string]any{"id": gid.Encode(f.ID), "e": e, "m": m} }
			testkit.RequireGQLError(t, client.Do(q, vars("PENDIENTE", nil)), apperror.Validation, "estado")
			testkit.RequireGQLError(t, client.Do(q, vars("RECLAMADA", nil)), apperror.Validation, "motivo")
			testkit.RequireGQLError(t, client.Do(q, vars("TACITA", nil)), apperror.Validation, "e")
			got := testkit.Data[struct {
				RegistrarAcuseFactura struct{ EstadoAcuse, MotivoAcuse, Estado string }
			}](t, client, q, vars("ACEPTADA", "Conforme"))
			assert.Equal(t, "ACEPTADA", got.RegistrarAcuseFactura.EstadoAcuse)
			assert.Equal(t, "Conforme", got.RegistrarAcuseFactura.MotivoAcuse)
			assert.Equal(t, "DISPONIBLE", got.RegistrarAcuseFactura.Estado)
			e := testkit.RequireGQLError(t, client.Do(q, vars("RECLAMADA", "Tarde")), apperror.Conflict)
			assert.Contains(t, e.Message, "ACEPTADA", "a claim after the acceptance")
			testkit.RequireGQLError(t, client.Do(q, map[string]any{"id": gid.Encode(missingFactura), "e": "ACEPTADA"}), apperror.NotFound)

			reg := `mutation($in: RegistrarFacturaInput!) { registrarFactura(input: $in) { fechaRecepcion } }`
			regVars := func(recepcion string) map[string]any {
				in := testkit.FacturaInput(c.ID, "1000.00", testkit.Vence(30))
				return map[string]any{"in": map[string]any{
					"clienteId": gid.Encode(c.ID), "numeroFactura": in.NumeroFactura, "rutDeudor": in.RutDeudor,
					"razonSocialDeudor": in.RazonSocialDeudor, "montoTotal": "1000.00", "fechaEmision": in.FechaEmision.Format(time.DateOnly),
					"fechaVencimiento": in.FechaVencimiento.Format(time.DateOnly), "fechaRecepcion": recepcion,
				}}
			}
			testkit.RequireGQLError(t, client.Do(reg, regVars(testkit.HoyFecha.AddDate(0, 0, 1).Format(time.DateOnly))), apperror.Validation, "fechaRecepcion")
			ok := testkit.Data[struct {
				RegistrarFactura struct{ FechaRecepcion string }
			}](t, client, reg, regVars(testkit.HoyFecha.Format(time.DateOnly)))
			assert.Equal(t, testkit.HoyFecha.Format(time.DateOnly), ok.RegistrarFactura.FechaRecepcion)
		})

		t.Run("limites_al_aprobar", func(t *testing.T) {
			rut := testkit.NewRUT()
			c := env.MustCrearClienteActivo(t, "1000000")
			aprobar := `mutation($o: ID!) { aprobarOperacion(id: $o) { estado } }`

			op, fs := env.MustOperacionPendienteDe(t, c.ID, rut, "500000.01")
			deudor := env.DeudorDe(t, fs[0])
			_, err := env.Svc.Deudores.FijarLineaExposicion(env.Ctx, deudor.ID, testkit.Ptr(testkit.Dec("500000")))
			require.NoError(t, err)
			res := client.Do(aprobar, map[string]any{"o": gid.Encode(op.ID)})
			e := testkit.RequireGQLError(t, res, apperror.Validation, "lineaExposicion")
			assert.Contains(t, e.Extensions.Fields["lineaExposicion"], deudor.Rut)
			assert.Contains(t, e.Extensions.Fields["lineaExposicion"], "exceso 0.01")
			testkit.RequireNullData(t, res)

			_, err = env.Svc.Deudores.FijarLineaExposicion(env.Ctx, deudor.ID, nil)
			require.NoError(t, err)
			_, err = env.Svc.Clientes.FijarConcentracionMaxima(env.Ctx, c.ID, testkit.Dec("50"))
			require.NoError(t, err)
			e = testkit.RequireGQLError(t, client.Do(aprobar, map[string]any{"o": gid.Encode(op.ID)}), apperror.Validation, "concentracionMaxima")
			assert.Contains(t, e.Extensions.Fields["concentracionMaxima"], deudor.Rut)
			assert.Contains(t, e.Extensions.Fields["concentracionMaxima"], "= 500000.00 por deudor")
			assert.Contains(t, e.Extensions.Fields["concentracionMaxima"], "exceso 0.01")

			_, err = env.Svc.Deudores.Bloquear(env.Ctx, deudor.ID, "Quiebra")
			require.NoError(t, err)
			e = testkit.RequireGQLError(t, client.Do(aprobar, map[string]any{"o": gid.Encode(op.ID)}), apperror.Validation, "facturas")
			assert.Contains(t, e.Extensions.Fields["facturas"], "BLOQUEADO")
			libre := env.MustRegistrarFacturaDe(t, c.ID, rut, "1.00")
			e = testkit.RequireGQLError(t, client.Do(`mutation($c: ID!, $f: [ID!]!) { crearOperacion(input: {clienteId: $c, facturaIds: $f}) { id } }`,
				map[string]any{"c": gid.Encode(c.ID), "f": []string{gid.Encode(libre.ID)}}), apperror.Validation, "facturaIds")
			assert.Contains(t, e.Extensions.Fields["facturaIds"], "BLOQUEADO")
		})
		testkit.RequireVerificado(t, db)
	})
}

// TestExposicionSinNMasUno: a page of deudores with their exposure and
// facturas takes the same statements for 2 deudores as for 20 (the
// exposure of the whole page is one query).
func TestExposicionSinNMasUno(t *testing.T) {
	for name, dia := range map[string]string{"sqlite": dialect.SQLite, "postgres": dialect.Postgres} {
		t.Run(name, func(t *testing.T) {
			q := `{ deudores(first: 50) { totalCount edges { node { rut exposicion
			  facturas(first: 5) { totalCount edges { node { id cliente { rut } } } } } } } }`
			qFacturas := `{ facturas(first: 100) { edges { node { montoTotal deudor { rut exposicion } } } } }`
			counts, countsFacturas := map[int]int64{}, map[int]int64{}
			for _, n := range []int{2, 20} {
				db, stmts := testkit.CountedDB(t, dia)
				env := testkit.NewEnv(t, db)
				c := env.MustCrearClienteActivo(t, "100000000.00")
				for range n {
					op, _ := env.MustOperacionPendienteDe(t, c.ID, testkit.NewRUT(), "1000.00", "2000.00")
					_, err := env.Svc.Operaciones.Aprobar(env.Ctx, op.ID)
					require.NoError(t, err)
				}
				client, _ := testkit.Serve(t, db, testkit.ServeOptions{})
				stmts.Reset()
				got := testkit.Data[struct{ Deudores testkit.Conn[deudorGQL] }](t, client, q, nil).Deudores
				counts[n] = stmts.Load()
				require.Len(t, got.Edges, n)
				for _, d := range got.Nodes() {
					assert.Equal(t, "3000.00", d.Exposicion)
				}
				stmts.Reset()
				fs := testkit.Data[struct {
					Facturas testkit.Conn[struct{ Deudor deudorGQL }]
				}](t, client, qFacturas, nil).Facturas
				countsFacturas[n] = stmts.Load()
				require.Len(t, fs.Edges, 2*n)
				for _, f := range fs.Nodes() {
					assert.Equal(t, "3000.00", f.Deudor.Exposicion)
				}
			}
			assert.Equal(t, counts[2], counts[20], "statements for 2 and for 20 deudores: %v", counts)
			assert.Equal(t, countsFacturas[2], countsFacturas[20], "facturas with their deudor: %v", countsFacturas)
		})
	}
}
