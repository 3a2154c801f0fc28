package clientes_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banpro/factoring/ent"
	"github.com/banpro/factoring/internal/apperror"
	"github.com/banpro/factoring/internal/clientes"
	"github.com/banpro/factoring/internal/database"
	"github.com/banpro/factoring/internal/estado"
	"github.com/banpro/factoring/internal/rut"
	"github.com/banpro/factoring/internal/testkit"
)

var ctx = context.Background()

// missingID is a cliente id no test ever creates.
const missingID = 999_999

func TestCrear(t *testing.T) {
	testkit.EachDB(t, func(t *testing.T, db *database.DB) {
		env := testkit.NewEnv(t, db)
		svc := env.Svc.Clientes

		t.Run("crea_pendiente_con_toda_la_linea_disponible", func(t *testing.T) {
			// Ensure that a new cliente starts PENDIENTE, with lineaDisponible
			// equal to lineaCredito and the registration date of the clock.
			in := testkit.ClienteInput("1500000.50")
			c, err := svc.Crear(ctx, in)
			require.NoError(t, err)
			assert.Equal(t, estado.ClientePendiente, c.Estado)
			assert.Equal(t, "1500000.50", c.LineaCredito.StringFixed(2))
			assert.Equal(t, "1500000.50", c.LineaDisponible.StringFixed(2))
			assert.Nil(t, c.MotivoEstado)
			assert.True(t, c.FechaRegistro.Equal(testkit.Hoy), "fechaRegistro is the clock's now")
			stored := env.Cliente(t, c.ID)
			assert.Equal(t, estado.ClientePendiente, stored.Estado)
			assert.True(t, stored.LineaDisponible.Equal(stored.LineaCredito))
			assert.Equal(t, in.Email, stored.Email)
			assert.Equal(t, *in.Giro, *stored.Giro)
		})

		t.Run("acepta_linea_cero", func(t *testing.T) {
			c, err := svc.Crear(ctx, testkit.ClienteInput("0"))
			require.NoError(t, err)
			assert.Equal(t, "0.00", c.LineaDisponible.StringFixed(2))
		})

		t.Run("guarda_el_rut_canonico_para_toda_grafia", func(t *testing.T) {
			// Ensure that every accepted spelling of a RUT is stored in the one
			// canonical form (dots, hyphen, no leading zeros, uppercase K).
			// Each spelling on a fresh body (8 digits, check digit K, 7 digits).
			for i := range len(testkit.Spellings(testkit.Body())) {
				for _, b := range []int{testkit.Body(), testkit.BodyK(), testkit.Body7()} {
					s := testkit.Spellings(b)[i]
					in := testkit.ClienteInput("1000")
					in.Rut = s
					c, err := svc.Crear(ctx, in)
					require.NoError(t, err, "spelling %q", s)
					assert.Equal(t, rut.Format(b, rut.CheckDigit(b)), c.Rut, "spelling %q", s)
					assert.Equal(t, c.Rut, env.Cliente(t, c.ID).Rut)
				}
			}
		})

		t.Run("ejemplos_documentados", func(t *testing.T) {
			// The seed stored 9876543-3 as 09.876.543-3 but 9.876.543-3 as
			// itself, so one company could be registered twice.
			for _, tc := range []struct{ first, again, canonical string }{
				{"09.876.543-3", " 9876543-3 ", "9.876.543-3"},
				{"12345678-5", "12.345.678-5", "12.345.678-5"},
			} {
				in := testkit.ClienteInput("1000")
				in.Rut = tc.first
				c, err := svc.Crear(ctx, in)
				require.NoError(t, err)
				assert.Equal(t, tc.canonical, c.Rut)
				in = testkit.ClienteInput("1000")
				in.Rut = tc.again
				_, err = svc.Crear(ctx, in)
				testkit.RequireCode(t, err, apperror.Conflict, "rut")
			}
		})

		t.Run("rechaza_rut_duplicado_en_cualquier_grafia", func(t *testing.T) {
			// Ensure that (change) one company cannot be registered twice by
			// spelling its RUT differently: CONFLICT on rut.
			for _, b := range []int{testkit.Body(), testkit.BodyK(), testkit.Body7()} {
				spellings := testkit.Spellings(b)
				in := testkit.ClienteInput("1000")
				in.Rut = spellings[0]
				_, err := svc.Crear(ctx, in)
				require.NoError(t, err)
				for _, s := range spellings {
					in := testkit.ClienteInput("1000")
					in.Rut = s
					_, err := svc.Crear(ctx, in)
					testkit.RequireCode(t, err, apperror.Conflict, "rut")
				}
			}
		})

		t.Run("rechaza_rut_invalido", func(t *testing.T) {
			b := testkit.Body()
			wrongDV := byte('0')
			if rut.CheckDigit(b) == '0' {
				wrongDV = '1'
			}
			for _, s := range []string{"", "abc", "12.345.678", "1234-5", rut.Format(b, wrongDV), "12.345678-5"} {
				in := testkit.ClienteInput("1000")
				in.Rut = s
				_, err := svc.Crear(ctx, in)
				testkit.RequireCode(t, err, apperror.Validation, "rut")
			}
		})

		t.Run("razon_social_recortada_de_1_a_255", func(t *testing.T) {
			in := testkit.ClienteInput("1000")
			in.RazonSocial = "  Comercial Ñuñoa SpA \t"
			c, err := svc.Crear(ctx, in)
			require.NoError(t, err)
			assert.Equal(t, "Comercial Ñuñoa SpA", c.RazonSocial)

			in = testkit.ClienteInput("1000")
			in.RazonSocial = strings.Repeat("ñ", 255) // counted in characters, not bytes
			_, err = svc.Crear(ctx, in)
			require.NoError(t, err)

			for _, bad := range []string{"", "   ", strings.Repeat("a", 256)} {
				in := testkit.ClienteInput("1000")
				in.RazonSocial = bad
				_, err := svc.Crear(ctx, in)
				testkit.RequireCode(t, err, apperror.Validation, "razonSocial")
			}
		})

		t.Run("largos_de_giro_direccion_telefono", func(t *testing.T) {
			in := testkit.ClienteInput("1000")
			in.Giro, in.Direccion, in.Telefono = testkit.Ptr(strings.Repeat("g", 255)), testkit.Ptr(strings.Repeat("d", 255)), testkit.Ptr(strings.Repeat("1", 50))
			_, err := svc.Crear(ctx, in)
			require.NoError(t, err, "the maximum lengths are allowed")

			in = testkit.ClienteInput("1000")
			in.Giro = testkit.Ptr(strings.Repeat("g", 256))
			_, err = svc.Crear(ctx, in)
			testkit.RequireCode(t, err, apperror.Validation, "giro")

			in = testkit.ClienteInput("1000")
			in.Direccion = testkit.Ptr(strings.Repeat("d", 256))
			_, err = svc.Crear(ctx, in)
			testkit.RequireCode(t, err, apperror.Validation, "direccion")

			in = testkit.ClienteInput("1000")
			in.Telefono = testkit.Ptr(strings.Repeat("1", 51))
			_, err = svc.Crear(ctx, in)
			testkit.RequireCode(t, err, apperror.Validation, "telefono")

			in = testkit.ClienteInput("1000")
			in.Giro, in.Direccion, in.Telefono = nil, nil, nil
			c, err := svc.Crear(ctx, in)
			require.NoError(t, err, "the optional fields are optional")
			assert.Nil(t, c.Giro)
			assert.Nil(t, c.Telefono)
		})

		t.Run("email_valido", func(t *testing.T) {
			for _, bad := range []string{"", "  ", "no-es-correo", "a@b", "Juan <juan@empresa.cl>", "juan@@empresa.cl", "juan empresa@x.cl"} {
				in := testkit.ClienteInput("1000")
				in.Email = bad
				_, err := svc.Crear(ctx, in)
				testkit.RequireCode(t, err, apperror.Validation, "email")
			}
			in := testkit.ClienteInput("1000")
			in.Email = " contacto@empresa.cl "
			c, err := svc.Crear(ctx, in)
			require.NoError(t, err)
			assert.Equal(t, "contacto@empresa.cl", c.Email)
		})

		t.Run("linea_credito_no_negativa", func(t *testing.T) {
			in := testkit.ClienteInput("-0.01")
			_, err := svc.Crear(ctx, in)
			testkit.RequireCode(t, err, apperror.Validation, "lineaCredito")
		})

		t.Run("reporta_todos_los_campos_a_la_vez", func(t *testing.T) {
			in := clientes.CrearInput{Rut: "x", RazonSocial: " ", Email: "y", LineaCredito: testkit.Dec("-1")}
			_, err := svc.Crear(ctx, in)
			testkit.RequireCode(t, err, apperror.Validation, "rut", "razonSocial", "email", "lineaCredito")
		})

		t.Run("un_error_no_deja_filas", func(t *testing.T) {
			before := env.Count(t)
			in := testkit.ClienteInput("1000")
			in.Email = "malo"
			_, err := svc.Crear(ctx, in)
			require.Error(t, err)
			assert.Equal(t, before, env.Count(t))
		})
	})
}

func TestActualizar(t *testing.T) {
	testkit.EachDB(t, func(t *testing.T, db *database.DB) {
		env := testkit.NewEnv(t, db)
		svc := env.Svc.Clientes

		t.Run("cambia_los_campos_editables", func(t *testing.T) {
			c := env.MustCrearClienteActivo(t, "1000000")
			env.Clock.Advance(3600e9)
			u, err := svc.Actualizar(ctx, c.ID, clientes.ActualizarInput{
				RazonSocial: testkit.Ptr("  Nueva Razón SpA "),
				Giro:        testkit.Ptr("Transporte"),
				Direccion:   testkit.Ptr("Calle 2"),
				Telefono:    testkit.Ptr("+56 9 1234 5678"),
				Email:       testkit.Ptr("nuevo@empresa.cl"),
			})
			require.NoError(t, err)
			stored := env.Cliente(t, c.ID)
			for _, got := range []*ent.Cliente{u, stored} {
				assert.Equal(t, "Nueva Razón SpA", got.RazonSocial)
				assert.Equal(t, "Transporte", *got.Giro)
				assert.Equal(t, "Calle 2", *got.Direccion)
				assert.Equal(t, "+56 9 1234 5678", *got.Telefono)
				assert.Equal(t, "nuevo@empresa.cl", got.Email)
				// Ensure that rut, estado and the line are not touched.
				assert.Equal(t, c.Rut, got.Rut)
				assert.Equal(t, estado.ClienteActivo, got.Estado)
				assert.True(t, c.LineaCredito.Equal(got.LineaCredito))
				assert.True(t, c.LineaDisponible.Equal(got.LineaDisponible))
			}
			assert.True(t, stored.ActualizadoEn.After(c.ActualizadoEn), "actualizadoEn moves")
		})

		t.Run("omitido_no_cambia_y_vacio_borra", func(t *testing.T) {
			c := env.MustCrearCliente(t, "1000")
			u, err := svc.Actualizar(ctx, c.ID, clientes.ActualizarInput{Giro: testkit.Ptr(""), Telefono: testkit.Ptr("   ")})
			require.NoError(t, err)
			assert.Nil(t, u.Giro, "blank giro clears it")
			assert.Nil(t, u.Telefono, "blank telefono clears it")
			require.NotNil(t, u.Direccion, "omitted direccion stays")
			assert.Equal(t, *c.Direccion, *u.Direccion)
			assert.Equal(t, c.RazonSocial, u.RazonSocial)
			assert.Equal(t, c.Email, u.Email)
			stored := env.Cliente(t, c.ID)
			assert.Nil(t, stored.Giro)
			assert.Nil(t, stored.Telefono)
			assert.NotNil(t, stored.Direccion)
		})

		t.Run("valida_como_al_crear", func(t *testing.T) {
			c := env.MustCrearCliente(t, "1000")
			cases := map[string]clientes.ActualizarInput{
				"razonSocial": {RazonSocial: testkit.Ptr("  ")},
				"email":       {Email: testkit.Ptr("sin-arroba")},
				"giro":        {Giro: testkit.Ptr(strings.Repeat("g", 256))},
				"direccion":   {Direccion: testkit.Ptr(strings.Repeat("d", 256))},
				"telefono":    {Telefono: testkit.Ptr(strings.Repeat("1", 51))},
			}
			for field, in := range cases {
				_, err := svc.Actualizar(ctx, c.ID, in)
				testkit.RequireCode(t, err, apperror.Validation, field)
			}
			assert.Equal(t, c.RazonSocial, env.Cliente(t, c.ID).RazonSocial, "nothing changed")
		})

		t.Run("cliente_inexistente", func(t *testing.T) {
			_, err := svc.Actualizar(ctx, missingID, clientes.ActualizarInput{Giro: testkit.Ptr("x")})
			testkit.RequireCode(t, err, apperror.NotFound)
		})
	})
}

func TestAjustarLineaCredito(t *testing.T) {
	testkit.EachDB(t, func(t *testing.T, db *database.DB) {
		env := testkit.NewEnv(t, db)
		svc := env.Svc.Clientes

		t.Run("sin_uso_la_disponible_sigue_a_la_de_credito", func(t *testing.T) {
			c := env.MustCrearClienteActivo(t, "1000000.00")
			u, err := svc.AjustarLineaCredito(ctx, c.ID, testkit.Dec("2500000.50"))
			require.NoError(t, err)
			assert.Equal(t, "2500000.50", u.LineaCredito.StringFixed(2))
			assert.Equal(t, "2500000.50", u.LineaDisponible.StringFixed(2))
			env.RequireLinea(t, c.ID, "2500000.50", "2500000.50")

			_, err = svc.AjustarLineaCredito(ctx, c.ID, testkit.Dec("0"))
			require.NoError(t, err, "with nothing in use the line may go to zero")
			env.RequireLinea(t, c.ID, "0.00", "0.00")
		})

		t.Run("con_una_operacion_aprobada_mueve_la_disponible_en_el_mismo_delta", func(t *testing.T) {
			// Ensure that the line in use (what approved operations hold)
			// stays the same through any adjustment, and that the line cannot
			// go below it.
			c := env.MustCrearClienteActivo(t, "1000000.00")
			env.MustOperacionAprobada(t, c.ID, "300000.00")
			env.RequireLinea(t, c.ID, "1000000.00", "700000.00")

			_, err := svc.AjustarLineaCredito(ctx, c.ID, testkit.Dec("500000.00"))
			require.NoError(t, err)
			env.RequireLinea(t, c.ID, "500000.00", "200000.00")

			_, err = svc.AjustarLineaCredito(ctx, c.ID, testkit.Dec("1800000.25"))
			require.NoError(t, err)
			env.RequireLinea(t, c.ID, "1800000.25", "1500000.25")

			_, err = svc.AjustarLineaCredito(ctx, c.ID, testkit.Dec("300000.00"))
			require.NoError(t, err, "exactly the line in use is allowed")
			env.RequireLinea(t, c.ID, "300000.00", "0.00")

			_, err = svc.AjustarLineaCredito(ctx, c.ID, testkit.Dec("299999.99"))
			testkit.RequireCode(t, err, apperror.Validation, "lineaCredito")
			env.RequireLinea(t, c.ID, "300000.00", "0.00")
			testkit.RequireVerificado(t, db)
		})

		t.Run("una_operacion_pendiente_no_usa_linea", func(t *testing.T) {
			c := env.MustCrearClienteActivo(t, "100000.00")
			env.MustOperacionPendiente(t, c.ID, "100000.00")
			_, err := svc.AjustarLineaCredito(ctx, c.ID, testkit.Dec("0"))
			require.NoError(t, err)
			env.RequireLinea(t, c.ID, "0.00", "0.00")
		})

		t.Run("negativa", func(t *testing.T) {
			c := env.MustCrearCliente(t, "1000")
			_, err := svc.AjustarLineaCredito(ctx, c.ID, testkit.Dec("-0.01"))
			testkit.RequireCode(t, err, apperror.Validation, "lineaCredito")
			env.RequireLinea(t, c.ID, "1000.00", "1000.00")
		})

		t.Run("cliente_inexistente", func(t *testing.T) {
			_, err := svc.AjustarLineaCredito(ctx, missingID, testkit.Dec("1"))
			testkit.RequireCode(t, err, apperror.NotFound)
		})
	})
}

func TestTransicionesDeEstado(t *testing.T) {
	// Every (action, state) pair through the service, written out from the
	// cliente's state table (docs/dominio.md, "Cliente").
	type accion struct {
		name string
		run  func(env *testkit.Env, id int) (*ent.Cliente, error)
	}
	activar := accion{"activar", func(env *testkit.Env, id int) (*ent.Cliente, error) { return env.Svc.Clientes.Activar(ctx, id) }}
	suspender := accion{"suspender", func(env *testkit.Env, id int) (*ent.Cliente, error) {
		return env.Svc.Clientes.Suspender(ctx, id, testkit.Ptr("Mora de 60 días"))
	}}
	bloquear := accion{"bloquear", func(env *testkit.Env, id int) (*ent.Cliente, error) {
		return env.Svc.Clientes.Bloquear(ctx, id, "Fraude documentado")
	}}
	// to: "" means refused with CONFLICT.
	cases := []struct {
		a    accion
		from estado.Cliente
		to   estado.Cliente
	}{
		{activar, estado.ClientePendiente, estado.ClienteActivo},
		{activar, estado.ClienteActivo, ""},
		{activar, estado.ClienteSuspendido, estado.ClienteActivo},
		{activar, estado.ClienteBloqueado, ""},
		{suspender, estado.ClientePendiente, ""},
		{suspender, estado.ClienteActivo, estado.ClienteSuspendido},
		{suspender, estado.ClienteSuspendido, ""},
		{suspender, estado.ClienteBloqueado, ""},
		{bloquear, estado.ClientePendiente, estado.ClienteBloqueado},
		{bloquear, estado.ClienteActivo, estado.ClienteBloqueado},
		{bloquear, estado.ClienteSuspendido, estado.ClienteBloqueado},
		{bloquear, estado.ClienteBloqueado, ""},
	}
	testkit.EachDB(t, func(t *testing.T, db *database.DB) {
		env := testkit.NewEnv(t, db)
		for _, tc := range cases {
			t.Run(tc.a.name+"_desde_"+string(tc.from), func(t *testing.T) {
				c := clienteEn(t, env, tc.from)
				before := env.Cliente(t, c.ID)
				got, err := tc.a.run(env, c.ID)
				stored := env.Cliente(t, c.ID)
				if tc.to == "" {
					appErr := testkit.RequireCode(t, err, apperror.Conflict)
					assert.Contains(t, appErr.Message, "estado "+string(tc.from), "the CONFLICT names the current state")
					assert.Equal(t, tc.from, stored.Estado)
					assert.Equal(t, before.MotivoEstado, stored.MotivoEstado)
					return
				}
				require.NoError(t, err)
				assert.Equal(t, tc.to, got.Estado)
				assert.Equal(t, tc.to, stored.Estado)
				switch tc.to {
				case estado.ClienteActivo:
					assert.Nil(t, stored.MotivoEstado, "activation clears motivoEstado")
				case estado.ClienteSuspendido:
					require.NotNil(t, stored.MotivoEstado)
					assert.Equal(t, "Mora de 60 días", *stored.MotivoEstado)
				case estado.ClienteBloqueado:
					require.NotNil(t, stored.MotivoEstado)
					assert.Equal(t, "Fraude documentado", *stored.MotivoEstado)
				}
			})
		}

		t.Run("suspender_sin_motivo_no_deja_motivo", func(t *testing.T) {
			c := env.MustCrearClienteActivo(t, "1000")
			s, err := env.Svc.Clientes.Suspender(ctx, c.ID, nil)
			require.NoError(t, err)
			assert.Equal(t, estado.ClienteSuspendido, s.Estado)
			assert.Nil(t, s.MotivoEstado)
		})

		t.Run("reactivar_borra_el_motivo_de_la_suspension", func(t *testing.T) {
			c := env.MustCrearClienteActivo(t, "1000")
			_, err := env.Svc.Clientes.Suspender(ctx, c.ID, testkit.Ptr("  Revisión  "))
			require.NoError(t, err)
			assert.Equal(t, "Revisión", *env.Cliente(t, c.ID).MotivoEstado, "motivo is trimmed")
			_, err = env.Svc.Clientes.Activar(ctx, c.ID)
			require.NoError(t, err)
			assert.Nil(t, env.Cliente(t, c.ID).MotivoEstado)
		})

		t.Run("bloquear_exige_motivo", func(t *testing.T) {
			c := env.MustCrearClienteActivo(t, "1000")
			for _, m := range []string{"", "   ", strings.Repeat("m", 501)} {
				_, err := env.Svc.Clientes.Bloquear(ctx, c.ID, m)
				testkit.RequireCode(t, err, apperror.Validation, "motivo")
			}
			assert.Equal(t, estado.ClienteActivo, env.Cliente(t, c.ID).Estado)
		})

		t.Run("cliente_inexistente", func(t *testing.T) {
			_, err := env.Svc.Clientes.Activar(ctx, missingID)
			testkit.RequireCode(t, err, apperror.NotFound)
			_, err = env.Svc.Clientes.Suspender(ctx, missingID, nil)
			testkit.RequireCode(t, err, apperror.NotFound)
			_, err = env.Svc.Clientes.Bloquear(ctx, missingID, "motivo")
			testkit.RequireCode(t, err, apperror.NotFound)
		})
	})
}

// clienteEn builds, through the service, a cliente in state e.
func clienteEn(t *testing.T, env *testkit.Env, e estado.Cliente) *ent.Cliente {
	t.Helper()
	c := env.MustCrearCliente(t, "1000")
	var err error
	switch e {
	case estado.ClientePendiente:
	case estado.ClienteActivo:
		c, err = env.Svc.Clientes.Activar(ctx, c.ID)
	case estado.ClienteSuspendido:
		c = env.MustCrearClienteActivo(t, "1000")
		c, err = env.Svc.Clientes.Suspender(ctx, c.ID, testkit.Ptr("Previo"))
	case estado.ClienteBloqueado:
		c, err = env.Svc.Clientes.Bloquear(ctx, c.ID, "Previo")
	}
	require.NoError(t, err)
	require.Equal(t, e, c.Estado)
	return c
}

// TestFijarConcentracionMaxima: more than 0, at most 100, two decimals.
func TestFijarConcentracionMaxima(t *testing.T) {
	db := testkit.SQLite(t)
	env := testkit.NewEnv(t, db)
	c := env.MustCrearClienteActivo(t, "1000000.00")
	for _, bad := range []string{"0", "-1", "100.01", "30.001"} {
		_, err := env.Svc.Clientes.FijarConcentracionMaxima(ctx, c.ID, testkit.Dec(bad))
		testkit.RequireCode(t, err, apperror.Validation, "porcentaje")
	}
	_, err := env.Svc.Clientes.FijarConcentracionMaxima(ctx, 999_999, testkit.Dec("30"))
	testkit.RequireCode(t, err, apperror.NotFound)
	got, err := env.Svc.Clientes.FijarConcentracionMaxima(ctx, c.ID, testkit.Dec("0.01"))
	require.NoError(t, err)
	assert.Equal(t, "0.01", got.ConcentracionMaxima.StringFixed(2))
	assert.Equal(t, "0.01", env.Svc.Clientes.ConcentracionMaxima(got).StringFixed(2))
	assert.Equal(t, "100.00", env.Svc.Clientes.ConcentracionMaxima(env.MustCrearCliente(t, "1.00")).StringFixed(2),
		"nobody set it: the configured default, no cap")
	testkit.RequireVerificado(t, db)
}
