package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banpro/factoring/ent/factura"
	"github.com/banpro/factoring/internal/clock"
	"github.com/banpro/factoring/internal/config"
	"github.com/banpro/factoring/internal/database"
	"github.com/banpro/factoring/internal/estado"
	"github.com/banpro/factoring/internal/testkit"
)

// syncBuffer is a log or output destination safe for the server's goroutines.
type syncBuffer = testkit.SyncBuffer

// ahora is the clock of every command run by these tests.
var ahora = time.Date(2026, 11, 26, 15, 0, 0, 0, time.UTC)

// cli runs commands in-process against one environment.
type cli struct {
	t   *testing.T
	env map[string]string
	// now is the commands' clock; ahora when zero.
	now time.Time
	// relojReal gives the commands the system clock instead.
	relojReal bool
}

func newCLI(t *testing.T, databaseURL string) *cli {
	return &cli{t: t, env: map[string]string{
		"FACTORING_DATABASE_URL": databaseURL,
		"FACTORING_HTTP_ADDR":    "127.0.0.1:0",
		"FACTORING_LOG_LEVEL":    "warn",
		// Authentication is not what these tests are about.
		"FACTORING_AUTH": "disabled",
		// Nor the admin listener, whose default port several servers
		// started at once would fight over.
		"FACTORING_ADMIN_ADDR": "off",
		// Nor the overdue job serve schedules, which would catch up on
		// this morning's run at start (events_test.go turns it on).
		"FACTORING_VENCIDAS_CRON": "off",
	}}
}

func sqliteCLI(t *testing.T) *cli {
	return newCLI(t, "sqlite://"+filepath.Join(t.TempDir(), "factoring.db"))
}

func (c *cli) main(stdout, stderr *syncBuffer) *Main {
	var reloj clock.Clock = clock.NewFixed(cmp.Or(c.now, ahora))
	if c.relojReal {
		reloj = clock.System{}
	}
	return &Main{
		Stdout: stdout,
		Stderr: stderr,
		Getenv: func(name string) (string, bool) {
			v, ok := c.env[name]
			return v, ok
		},
		Clock: reloj,
	}
}

// run runs one command to its end.
func (c *cli) run(args ...string) (stdout, stderr string, err error) {
	c.t.Helper()
	var out, errOut syncBuffer
	err = c.main(&out, &errOut).Run(c.t.Context(), args)
	return out.String(), errOut.String(), err
}

// mustRun runs one command that must succeed and returns its stdout.
func (c *cli) mustRun(args ...string) string {
	c.t.Helper()
	out, errOut, err := c.run(args...)
	require.NoError(c.t, err, "factoring %s\nstdout: %s\nstderr: %s", strings.Join(args, " "), out, errOut)
	return out
}

// serve starts `factoring serve args...` and returns the base URL it
// listens on and a stop function that cancels it and returns Run's error.
func (c *cli) serve(args ...string) (string, func() error) {
	c.t.Helper()
	base, _, stop := c.serveCapturando(args...)
	return base, stop
}

func (c *cli) open() *database.DB {
	c.t.Helper()
	db, err := database.Open(c.t.Context(), c.env["FACTORING_DATABASE_URL"], database.Options{})
	require.NoError(c.t, err)
	c.t.Cleanup(func() { _ = db.Close() })
	return db
}

func TestVersion(t *testing.T) {
	out := sqliteCLI(t).mustRun("version")
	assert.Regexp(t, regexp.MustCompile(`^factoring \S+ \(commit \S+, go1\.\d+`), out)
	assert.Contains(t, out, version)
	assert.Contains(t, out, commit)
}

func TestUso(t *testing.T) {
	c := sqliteCLI(t)
	t.Run("comando_desconocido", func(t *testing.T) {
		out, errOut, err := c.run("despegar")
		require.ErrorIs(t, err, errUsage)
		assert.Empty(t, out)
		assert.Contains(t, errOut, `comando desconocido "despegar"`)
		assert.Contains(t, errOut, "Uso: factoring")
	})
	t.Run("sin_comando", func(t *testing.T) {
		_, errOut, err := c.run()
		require.ErrorIs(t, err, errUsage)
		assert.Contains(t, errOut, "Uso: factoring")
	})
	t.Run("ayuda", func(t *testing.T) {
		out := c.mustRun("help")
		for _, cmd := range []string{"serve", "migrate", "seed", "verificar", "version"} {
			assert.Contains(t, out, cmd)
		}
	})
	t.Run("bandera_desconocida", func(t *testing.T) {
		_, errOut, err := c.run("seed", "--no-existe")
		require.ErrorIs(t, err, errUsage)
		assert.Contains(t, errOut, "no-existe")
	})
	t.Run("subcomando_de_migrate_desconocido", func(t *testing.T) {
		_, errOut, err := c.run("migrate", "deshacer")
		require.ErrorIs(t, err, errUsage)
		assert.Contains(t, errOut, "deshacer")
	})
	t.Run("configuracion_invalida_nombra_la_variable", func(t *testing.T) {
		bad := sqliteCLI(t)
		bad.env["FACTORING_TASA_DESCUENTO"] = "0"
		bad.env["FACTORING_TIMEZONE"] = "Mars/Base"
		for _, cmd := range []string{"migrate", "seed", "serve", "verificar"} {
			_, _, err := bad.run(cmd)
			require.Error(t, err, cmd)
			assert.NotErrorIs(t, err, errUsage)
			assert.Contains(t, err.Error(), "FACTORING_TASA_DESCUENTO", cmd)
			assert.Contains(t, err.Error(), "FACTORING_TIMEZONE", cmd)
			assert.NotContains(t, err.Error(), "\n", "one line")
		}
	})
}

func TestMigrateSeedVerificarSQLite(t *testing.T) {
	c := sqliteCLI(t)

	t.Run("status_antes_de_migrar", func(t *testing.T) {
		out := c.mustRun("migrate", "status")
		assert.Contains(t, out, "pendiente")
		assert.Contains(t, out, "0 aplicada(s)")
	})
	t.Run("seed_sin_migrar_pide_migrate", func(t *testing.T) {
		_, _, err := c.run("seed")
		require.Error(t, err)
		assert.Contains(t, err.Error(), "factoring migrate")
	})
	t.Run("verificar_sin_migrar_pide_migrate", func(t *testing.T) {
		_, _, err := c.run("verificar")
		require.Error(t, err)
		assert.Contains(t, err.Error(), "factoring migrate")
	})

	var applied []string
	t.Run("migrate_aplica_e_informa", func(t *testing.T) {
		out := c.mustRun("migrate")
		for l := range strings.Lines(out) {
			if v, ok := strings.CutPrefix(strings.TrimSpace(l), "aplicada "); ok {
				applied = append(applied, v)
			}
		}
		require.NotEmpty(t, applied, out)
		assert.Contains(t, out, "migración(es) aplicada(s)")
	})
	t.Run("migrate_de_nuevo_no_hace_nada", func(t *testing.T) {
		out := c.mustRun("migrate")
		assert.Contains(t, out, "sin migraciones pendientes")
		assert.NotContains(t, out, "aplicada ")
	})
	t.Run("status_despues_de_migrar", func(t *testing.T) {
		out := c.mustRun("migrate", "status")
		for _, v := range applied {
			assert.Contains(t, out, "aplicada   "+v)
		}
		assert.NotContains(t, out, "pendiente ")
		assert.Contains(t, out, "0 pendiente(s)")
	})

	t.Run("seed_crea_los_datos_de_demostracion", func(t *testing.T) {
		out := c.mustRun("seed")
		assert.Contains(t, out, "clientes: 7 creados, 0 ya existían")
		assert.Contains(t, out, "facturas: 14 creadas, 0 ya existían")
		assert.Contains(t, out, "operaciones: 5 creadas")
		assert.Contains(t, out, "facturas marcadas VENCIDA: 1")
		db := c.open()
		facturas, err := db.Client.Factura.Query().All(t.Context())
		require.NoError(t, err)
		got := map[string]estado.Factura{}
		for _, f := range facturas {
			got[f.NumeroFactura] = f.Estado
		}
		assert.Equal(t, map[string]estado.Factura{
			"F-1001": estado.FacturaPagada, "F-2001": estado.FacturaPagada, "F-3001": estado.FacturaPagada,
			"F-1002": estado.FacturaAnulada, "F-2002": estado.FacturaAnulada,
			"F-1101": estado.FacturaPagada, "F-2101": estado.FacturaCedida, "F-2103": estado.FacturaVencida,
			"F-1102": estado.FacturaCedida, "F-2102": estado.FacturaDisponible, "A-1001": estado.FacturaDisponible,
			"F-1105": estado.FacturaDisponible, "F-1103": estado.FacturaEnProceso, "F-1104": estado.FacturaEnProceso,
		}, got)
		clientes, err := db.Client.Cliente.Query().All(t.Context())
		require.NoError(t, err)
		porEstado := map[estado.Cliente]int{}
		for _, cl := range clientes {
			porEstado[cl.Estado]++
		}
		assert.Equal(t, map[estado.Cliente]int{estado.ClienteActivo: 3, estado.ClienteSuspendido: 2,
			estado.ClientePendiente: 1, estado.ClienteBloqueado: 1}, porEstado)
	})
	t.Run("seed_es_idempotente", func(t *testing.T) {
		out := c.mustRun("seed")
		assert.Contains(t, out, "clientes: 0 creados, 7 ya existían")
		assert.Contains(t, out, "facturas: 0 creadas, 14 ya existían")
		assert.Contains(t, out, "operaciones: 0 creadas")
		assert.NotContains(t, out, "VENCIDA")
	})
	t.Run("verificar_sin_violaciones", func(t *testing.T) {
		out := c.mustRun("verificar")
		assert.Contains(t, out, "revisados: 7 clientes, 14 facturas, 5 operaciones, 12 eventos")
		assert.Contains(t, out, ", 5 deudores\n", "one per RUT the demo's facturas name")
		assert.Contains(t, out, "sin violaciones")
	})
}

func TestSeedSoloDisponibles(t *testing.T) {
	c := sqliteCLI(t)
	c.mustRun("migrate")
	out := c.mustRun("seed", "--solo-disponibles")
	assert.Contains(t, out, "facturas: 12 creadas")
	assert.Contains(t, out, "operaciones: 0 creadas")
	db := c.open()
	n, err := db.Client.Factura.Query().Where(factura.EstadoEQ(estado.FacturaDisponible)).Count(t.Context())
	require.NoError(t, err)
	assert.Equal(t, 12, n)
	assert.Contains(t, c.mustRun("verificar"), "sin violaciones")
}

// arbol is the nested query the end-to-end tests ask the running server.
const arbol = `{"query":"query Arbol { clientes { totalCount edges { node { rut estado facturas { totalCount edges { node { numeroFactura estado operaciones { totalCount edges { node { id } } } } } } } } } }"}`

type arbolData struct {
	Data struct {
		Clientes struct {
			TotalCount int
			Edges      []struct {
				Node struct {
					Rut, Estado string
					Facturas    struct {
						TotalCount int
						Edges      []struct {
							Node struct {
								NumeroFactura, Estado string
								Operaciones           struct {
									TotalCount int
									Edges      []any
								}
							}
						}
					}
				}
			}
		}
	}
	Errors []any
}

// askArbol posts the nested query and checks the demo data comes back
// through clientes → facturas → operaciones.
func askArbol(t *testing.T, base string) {
	t.Helper()
	res, err := http.Post(base+"/graphql", "application/json", strings.NewReader(arbol))
	require.NoError(t, err)
	defer res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)
	var got arbolData
	require.NoError(t, json.NewDecoder(res.Body).Decode(&got))
	require.Empty(t, got.Errors)
	assert.Equal(t, 7, got.Data.Clientes.TotalCount)
	require.Len(t, got.Data.Clientes.Edges, 7)
	facturas := map[string]string{}
	enOperacion := map[string]bool{}
	for _, e := range got.Data.Clientes.Edges {
		for _, f := range e.Node.Facturas.Edges {
			facturas[f.Node.NumeroFactura] = e.Node.Rut
			assert.Len(t, f.Node.Operaciones.Edges, f.Node.Operaciones.TotalCount)
			if f.Node.Operaciones.TotalCount > 0 {
				enOperacion[f.Node.NumeroFactura] = true
			}
		}
	}
	assert.Equal(t, map[string]string{
		"F-1001": "12.345.678-5", "F-1002": "12.345.678-5", "F-1101": "12.345.678-5", "F-1102": "12.345.678-5",
		"F-1103": "12.345.678-5", "F-1104": "12.345.678-5", "F-1105": "12.345.678-5",
		"F-2001": "11.111.111-1", "F-2002": "11.111.111-1", "F-2101": "11.111.111-1", "F-2102": "11.111.111-1",
		"F-2103": "11.111.111-1",
		"F-3001": "9.876.543-3",
		"A-1001": "76.086.428-5",
	}, facturas)
	assert.Equal(t, map[string]bool{"F-1101": true, "F-2101": true, "F-2103": true, "F-1102": true,
		"F-2102": true, "F-1103": true, "F-1104": true}, enOperacion)

	ready, err := http.Get(base + "/readyz")
	require.NoError(t, err)
	ready.Body.Close()
	assert.Equal(t, http.StatusOK, ready.StatusCode)
}

func TestServeSQLite(t *testing.T) {
	// Ensure that on the embedded database serve migrates by itself and
	// --seed loads the demo data, then answers over real HTTP and stops
	// gracefully when its context ends.
	c := sqliteCLI(t)
	base, stop := c.serve("--seed")
	askArbol(t, base)
	require.NoError(t, stop(), "a cancelled serve returns nil")

	t.Run("seed_no_duplica_al_reiniciar", func(t *testing.T) {
		base, stop := c.serve("--seed")
		askArbol(t, base)
		require.NoError(t, stop())
	})
	t.Run("la_direccion_de_la_bandera_gana", func(t *testing.T) {
		first, stopFirst := c.serve()
		defer stopFirst()
		// The environment now names an address in use: serving there
		// would fail, so only --addr can make this one listen.
		c.env["FACTORING_HTTP_ADDR"] = strings.TrimPrefix(first, "http://")
		defer func() { c.env["FACTORING_HTTP_ADDR"] = "127.0.0.1:0" }()
		base, stop := c.serve("--addr", "127.0.0.1:0")
		assert.NotEqual(t, first, base)
		askArbol(t, base)
		require.NoError(t, stop())
	})
	t.Run("bandera_desconocida", func(t *testing.T) {
		_, _, err := c.run("serve", "--puerto", "80")
		require.ErrorIs(t, err, errUsage)
	})
}

func TestServePostgres(t *testing.T) {
	dbURL := testkit.EmptyPostgresURL(t)
	c := newCLI(t, dbURL)
	role := fmt.Sprintf("factoring_app_%d", time.Now().UnixNano()%1_000_000_000)
	c.env["FACTORING_DB_SERVING_ROLE"] = role
	t.Cleanup(func() {
		owner, err := database.Open(context.Background(), dbURL, database.Options{})
		if err != nil {
			return
		}
		defer owner.Close()
		_, _ = owner.SQL.Exec("DROP OWNED BY " + role)
		_, _ = owner.SQL.Exec("DROP ROLE IF EXISTS " + role)
	})

	t.Run("serve_sin_migrar_falla_y_pide_migrate", func(t *testing.T) {
		_, _, err := c.run("serve")
		require.Error(t, err, "PostgreSQL is not migrated by serve unless asked")
		assert.Contains(t, err.Error(), "factoring migrate")
	})

	out := c.mustRun("migrate")
	assert.Contains(t, out, "aplicada ")
	assert.Contains(t, out, "rol de servicio "+role)
	assert.Contains(t, c.mustRun("migrate"), "sin migraciones pendientes")
	assert.Contains(t, c.mustRun("seed"), "clientes: 7 creados")
	assert.Contains(t, c.mustRun("seed"), "clientes: 0 creados, 7 ya existían")
	assert.Contains(t, c.mustRun("verificar"), "sin violaciones")

	// The API serves as the role migrate made, not as the owner.
	u, err := url.Parse(dbURL)
	require.NoError(t, err)
	u.User = url.User(role)
	served := newCLI(t, u.String())
	base, stop := served.serve()
	askArbol(t, base)
	require.NoError(t, stop())
}

func TestServeDireccionOcupada(t *testing.T) {
	c := sqliteCLI(t)
	base, stop := c.serve()
	defer stop()
	c.env["FACTORING_HTTP_ADDR"] = strings.TrimPrefix(base, "http://")
	_, _, err := c.run("serve")
	require.Error(t, err, "a second server on the same address fails, it does not hang")
}

// Ensure that the process's log caps every line, whatever an error holds: a
// forged cursor once wrote one line of 3.2 MB.
func TestLogAcotado(t *testing.T) {
	for _, format := range []string{"json", "text"} {
		var out syncBuffer
		m := &Main{Stderr: &out}
		log := m.logger(config.Config{LogFormat: format})
		log.Error("error interno", "request_id", "r-1", "error", errors.New(strings.Repeat("[", 3<<20)))
		assert.Less(t, len(out.String()), 3<<10, format)
		assert.Contains(t, out.String(), "r-1", format)
	}
}
