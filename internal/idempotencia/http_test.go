package idempotencia_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banpro/factoring/ent"
	"github.com/banpro/factoring/ent/hook"
	"github.com/banpro/factoring/internal/apperror"
	"github.com/banpro/factoring/internal/auth"
	"github.com/banpro/factoring/internal/clock"
	"github.com/banpro/factoring/internal/database"
	"github.com/banpro/factoring/internal/estado"
	"github.com/banpro/factoring/internal/gid"
	"github.com/banpro/factoring/internal/idempotencia"
	"github.com/banpro/factoring/internal/testkit"
)

// These tests send real requests to the whole API on an httptest server:
// the Idempotency-Key header from the client's side.

const crearOperacion = `mutation Crear($c: ID!, $f: [ID!]!) {
  crearOperacion(input: {clienteId: $c, facturaIds: $f}) { id estado montoADesembolsar }
}`

// answer is one HTTP response, undecoded.
type answer struct {
	status int
	header http.Header
	body   []byte
}

// replayed reports whether the answer came from the store.
func (a answer) replayed() bool { return a.header.Get(idempotencia.HeaderReplayed) == "true" }

// decoded is an answer's GraphQL response.
type decoded struct {
	Data   map[string]json.RawMessage `json:"data"`
	Errors []struct {
		Message    string `json:"message"`
		Extensions struct {
			Code   string            `json:"code"`
			Fields map[string]string `json:"fields"`
		} `json:"extensions"`
	} `json:"errors"`
}

func (a answer) decode(t *testing.T) decoded {
	t.Helper()
	var d decoded
	require.NoError(t, json.Unmarshal(a.body, &d), "%s", a.body)
	return d
}

// code is the answer's first error code, "" without errors.
func (a answer) code(t *testing.T) string {
	t.Helper()
	d := a.decode(t)
	if len(d.Errors) == 0 {
		return ""
	}
	return d.Errors[0].Extensions.Code
}

// client posts GraphQL requests with a key (none when empty) and a token
// (none when empty). It returns errors rather than failing, so that
// goroutines may use it.
type client struct {
	url   string
	token string
}

func (c client) send(key, query string, vars map[string]any) (answer, error) {
	return c.sendKeys([]string{key}, query, vars)
}

func (c client) sendKeys(keys []string, query string, vars map[string]any) (answer, error) {
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		return answer{}, err
	}
	req, err := http.NewRequest(http.MethodPost, c.url+"/graphql", bytes.NewReader(body))
	if err != nil {
		return answer{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	for _, k := range keys {
		if k != "" {
			req.Header.Add(idempotencia.HeaderKey, k)
		}
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return answer{status: res.StatusCode, header: res.Header, body: b}, err
}

func (c client) must(t *testing.T, key, query string, vars map[string]any) answer {
	t.Helper()
	a, err := c.send(key, query, vars)
	require.NoError(t, err)
	return a
}

// fixture is an ACTIVO cliente with DISPONIBLE facturas, built through the
// domain services, and the API served over the same database.
type fixture struct {
	env      *testkit.Env
	cliente  *ent.Cliente
	facturas []int
	api      client
	clock    *clock.Fixed
}

func newFixture(t *testing.T, db *database.DB, facturas int) fixture {
	t.Helper()
	env := testkit.NewEnv(t, db)
	c := env.MustCrearClienteActivo(t, "100000000")
	montos := make([]string, facturas)
	for i := range montos {
		montos[i] = "100000.00"
	}
	_, ids := env.MustRegistrarFacturas(t, c.ID, montos...)
	clk := clock.NewFixed(testkit.Hoy)
	gql, _ := testkit.Serve(t, db, testkit.ServeOptions{Clock: clk})
	return fixture{env: env, cliente: c, facturas: ids, api: client{url: gql.URL()}, clock: clk}
}

// vars are crearOperacion's variables over the cliente and facturas.
func (f fixture) vars(facturas ...int) map[string]any {
	return map[string]any{"c": gid.Encode(f.cliente.ID), "f": gid.EncodeAll(facturas)}
}

// Ensure that one crearOperacion sent 20 times at once with one key runs
// once: one operación, one CREADA event, and one response body, returned
// to every request (replayed, or after IDEMPOTENCY_IN_PROGRESS and a
// retry, as the README's recipe retries).
func TestMismaClaveEnParalelo(t *testing.T) {
	testkit.EachDB(t, func(t *testing.T, db *database.DB) {
		f := newFixture(t, db, 2)
		before := f.env.Count(t)
		const n = 20
		var (
			wg                       sync.WaitGroup
			mu                       sync.Mutex
			bodies                   [n][]byte
			fresh, replayed, enCurso int
		)
		start := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				<-start
				for attempt := 0; ; attempt++ {
					a, err := f.api.send("paralelo-1", crearOperacion, f.vars(f.facturas...))
					if !assert.NoError(t, err) {
						return
					}
					mu.Lock()
					if a.status == http.StatusConflict {
						enCurso++
						mu.Unlock()
						assert.Equal(t, "1", a.header.Get("Retry-After"))
						assert.Less(t, attempt, 50, "still in progress after 50 retries")
						time.Sleep(time.Duration(10*(attempt+1)) * time.Millisecond)
						continue
					}
					if a.replayed() {
						replayed++
					} else {
						fresh++
					}
					mu.Unlock()
					assert.Equal(t, http.StatusOK, a.status, "%s", a.body)
					bodies[i] = a.body
					return
				}
			})
		}
		close(start)
		wg.Wait()
		t.Logf("%d requests: %d ran, %d replayed, %d answers IDEMPOTENCY_IN_PROGRESS (then retried)", n, fresh, replayed, enCurso)
		assert.Equal(t, 1, fresh, "exactly one request ran the mutation")
		assert.Equal(t, n-1, replayed)
		for i := range n {
			assert.Equal(t, string(bodies[0]), string(bodies[i]), "every answer is the first, byte for byte")
		}
		var d decoded
		require.NoError(t, json.Unmarshal(bodies[0], &d))
		require.Empty(t, d.Errors, "%s", bodies[0])

		after := f.env.Count(t)
		assert.Equal(t, before.Operaciones+1, after.Operaciones, "one operación")
		assert.Equal(t, before.Eventos+1, after.Eventos, "one CREADA event")
		assert.Equal(t, before.Links+2, after.Links)
	})
}

// Ensure that the same key with another request (other variables, another
// operation name) is refused with 422 IDEMPOTENCY_KEY_REUSED and runs
// nothing, and that a replay is the first answer byte for byte.
func TestClaveReutilizada(t *testing.T) {
	testkit.EachDB(t, func(t *testing.T, db *database.DB) {
		f := newFixture(t, db, 2)
		first := f.api.must(t, "reuso-1", crearOperacion, f.vars(f.facturas[0]))
		require.Equal(t, http.StatusOK, first.status, "%s", first.body)
		require.Empty(t, first.code(t))
		assert.False(t, first.replayed())
		before := f.env.Count(t)

		again := f.api.must(t, "reuso-1", crearOperacion, f.vars(f.facturas[0]))
		assert.Equal(t, http.StatusOK, again.status)
		assert.True(t, again.replayed())
		assert.Equal(t, string(first.body), string(again.body))
		assert.NotEqual(t, first.header.Get("X-Request-ID"), again.header.Get("X-Request-ID"), "the replay is another request")

		for name, send := range map[string]func() answer{
			"otras variables": func() answer { return f.api.must(t, "reuso-1", crearOperacion, f.vars(f.facturas[1])) },
			"otro nombre": func() answer {
				return f.api.must(t, "reuso-1", strings.Replace(crearOperacion, "mutation Crear", "mutation Otra", 1), f.vars(f.facturas[0]))
			},
		} {
			a := send()
			assert.Equal(t, http.StatusUnprocessableEntity, a.status, "%s: %s", name, a.body)
			assert.Equal(t, string(apperror.IdempotencyKeyReused), a.code(t), name)
			assert.Contains(t, a.decode(t).Errors[0].Extensions.Fields, idempotencia.HeaderKey, name)
			assert.False(t, a.replayed())
		}
		assert.Equal(t, before, f.env.Count(t), "nothing ran")
		f.env.RequireEstadoFacturas(t, estado.FacturaDisponible, f.facturas[1])
	})
}

// Ensure that a business error is kept and replayed: the same request with
// the same key gets the same VALIDATION_ERROR, byte for byte, even once the
// cause is gone; a new key runs the mutation again.
func TestErrorDeNegocioSeRepite(t *testing.T) {
	testkit.EachDB(t, func(t *testing.T, db *database.DB) {
		env := testkit.NewEnv(t, db)
		c := env.MustCrearCliente(t, "10000000") // PENDIENTE: crearOperacion refuses it
		_, ids := env.MustRegistrarFacturas(t, c.ID, "100000")
		gql, _ := testkit.Serve(t, db, testkit.ServeOptions{})
		api := client{url: gql.URL()}
		vars := map[string]any{"c": gid.Encode(c.ID), "f": gid.EncodeAll(ids)}

		first := api.must(t, "negocio-1", crearOperacion, vars)
		assert.Equal(t, string(apperror.Validation), first.code(t))
		assert.Contains(t, first.decode(t).Errors[0].Extensions.Fields, "clienteId")

		_, err := env.Svc.Clientes.Activar(context.Background(), c.ID)
		require.NoError(t, err)
		again := api.must(t, "negocio-1", crearOperacion, vars)
		assert.True(t, again.replayed())
		assert.Equal(t, first.status, again.status)
		assert.Equal(t, string(first.body), string(again.body))
		assert.Zero(t, env.Count(t).Operaciones, "the replay ran nothing")

		fresh := api.must(t, "negocio-2", crearOperacion, vars)
		assert.Empty(t, fresh.code(t), "%s", fresh.body)
		assert.Equal(t, 1, env.Count(t).Operaciones)

		// And a retry of that one after its answer was lost, with a new key
		// (the wrong way), is refused naming the operación that holds the
		// factura: the client can tell its first attempt went through.
		var op struct {
			CrearOperacion struct{ ID string }
		}
		require.NoError(t, json.Unmarshal(mustData(t, fresh), &op))
		dup := api.must(t, "negocio-3", crearOperacion, vars)
		assert.Equal(t, string(apperror.Validation), dup.code(t))
		assert.Contains(t, dup.decode(t).Errors[0].Extensions.Fields["facturaIds"], op.CrearOperacion.ID)
	})
}

func mustData(t *testing.T, a answer) []byte {
	t.Helper()
	var r struct{ Data json.RawMessage }
	require.NoError(t, json.Unmarshal(a.body, &r))
	return r.Data
}

// errCaida is the outage the tests inject.
var errCaida = errors.New("conexión con la base de datos perdida (simulada)")

// Ensure that a first attempt that hit an outage (an INTERNAL_ERROR: here
// the database failing the mutation's last write) is not kept: the retry
// with the same key runs, and succeeds.
func TestCaidaNoSeGuarda(t *testing.T) {
	testkit.EachDB(t, func(t *testing.T, db *database.DB) {
		f := newFixture(t, db, 1)
		var armed sync.Mutex
		fail := true
		db.Client.OperacionEvento.Use(func(next ent.Mutator) ent.Mutator {
			return hook.OperacionEventoFunc(func(ctx context.Context, m *ent.OperacionEventoMutation) (ent.Value, error) {
				armed.Lock()
				defer armed.Unlock()
				if fail {
					fail = false
					return nil, errCaida
				}
				return next.Mutate(ctx, m)
			})
		})
		before := f.env.Count(t)
		first := f.api.must(t, "caida-1", crearOperacion, f.vars(f.facturas...))
		assert.Equal(t, string(apperror.Internal), first.code(t), "%s", first.body)
		assert.Equal(t, before, f.env.Count(t), "the failed attempt left nothing")

		again := f.api.must(t, "caida-1", crearOperacion, f.vars(f.facturas...))
		assert.False(t, again.replayed(), "the outage was not kept")
		assert.Equal(t, http.StatusOK, again.status)
		assert.Empty(t, again.code(t), "%s", again.body)
		assert.Equal(t, before.Operaciones+1, f.env.Count(t).Operaciones)

		third := f.api.must(t, "caida-1", crearOperacion, f.vars(f.facturas...))
		assert.True(t, third.replayed())
		assert.Equal(t, string(again.body), string(third.body))
	})
}

// Ensure that a key is forgotten after its TTL (24 h by default): the same
// request 25 hours later runs again (and finds its factura held, by the
// operación the first run created).
func TestClaveVence(t *testing.T) {
	testkit.EachDB(t, func(t *testing.T, db *database.DB) {
		f := newFixture(t, db, 1)
		first := f.api.must(t, "vence-1", crearOperacion, f.vars(f.facturas...))
		require.Empty(t, first.code(t), "%s", first.body)
		var op struct {
			CrearOperacion struct{ ID string }
		}
		require.NoError(t, json.Unmarshal(mustData(t, first), &op))

		f.clock.Advance(23 * time.Hour)
		assert.True(t, f.api.must(t, "vence-1", crearOperacion, f.vars(f.facturas...)).replayed(), "23 h later it is still kept")

		f.clock.Advance(2 * time.Hour)
		later := f.api.must(t, "vence-1", crearOperacion, f.vars(f.facturas...))
		assert.False(t, later.replayed(), "25 h later it runs again")
		assert.Equal(t, string(apperror.Validation), later.code(t))
		assert.Contains(t, later.decode(t).Errors[0].Extensions.Fields["facturaIds"], op.CrearOperacion.ID)
		assert.Equal(t, 1, f.env.Count(t).Operaciones)
	})
}

// Ensure that a key belongs to its subject: two subjects sending the same
// key run two mutations.
func TestClavePorSujeto(t *testing.T) {
	testkit.EachDB(t, func(t *testing.T, db *database.DB) {
		env := testkit.NewEnv(t, db)
		c := env.MustCrearClienteActivo(t, "10000000")
		_, ids := env.MustRegistrarFacturas(t, c.ID, "100000", "200000")
		cfg := testkit.WithAuth(testkit.Config(t))
		gql, _ := testkit.Serve(t, db, testkit.ServeOptions{Config: &cfg})
		ana := client{url: gql.URL(), token: testkit.Token(t, "ana", auth.Analista)}
		berta := client{url: gql.URL(), token: testkit.Token(t, "berta", auth.Analista)}

		a := ana.must(t, "compartida", crearOperacion, map[string]any{"c": gid.Encode(c.ID), "f": []string{gid.Encode(ids[0])}})
		b := berta.must(t, "compartida", crearOperacion, map[string]any{"c": gid.Encode(c.ID), "f": []string{gid.Encode(ids[1])}})
		for _, r := range []answer{a, b} {
			assert.Equal(t, http.StatusOK, r.status, "%s", r.body)
			assert.Empty(t, r.code(t), "%s", r.body)
			assert.False(t, r.replayed())
		}
		assert.Equal(t, 2, env.Count(t).Operaciones)
		assert.True(t, ana.must(t, "compartida", crearOperacion, map[string]any{"c": gid.Encode(c.ID), "f": []string{gid.Encode(ids[0])}}).replayed())
	})
}

// Ensure that a malformed key, several keys, or a key on an operation with
// more than one mutation field is a VALIDATION_ERROR naming
// Idempotency-Key, before anything runs; and that a key on a query is
// ignored.
func TestReglasDeLaCabecera(t *testing.T) {
	testkit.EachDB(t, func(t *testing.T, db *database.DB) {
		f := newFixture(t, db, 1)
		before := f.env.Count(t)
		refused := func(t *testing.T, a answer, err error) {
			t.Helper()
			require.NoError(t, err)
			assert.Equal(t, http.StatusUnprocessableEntity, a.status, "%s", a.body) // a 400 under application/json
			assert.Equal(t, string(apperror.Validation), a.code(t))
			assert.Contains(t, a.decode(t).Errors[0].Extensions.Fields, idempotencia.HeaderKey, "%s", a.body)
			assert.NotContains(t, a.decode(t).Data, "crearOperacion")
		}
		for name, key := range map[string]string{
			"256 caracteres":       strings.Repeat("k", 256),
			"un tabulador":         "clave\tcon-tab",
			"un espacio interior":  "clave con espacio",
			"fuera de ASCII":       "clave-ñandú",
			"solo espacios en ...": "   ",
		} {
			t.Run(name, func(t *testing.T) {
				a, err := f.api.send(key, crearOperacion, f.vars(f.facturas...))
				refused(t, a, err)
			})
		}
		t.Run("dos_claves", func(t *testing.T) {
			a, err := f.api.sendKeys([]string{"una", "otra"}, crearOperacion, f.vars(f.facturas...))
			refused(t, a, err)
		})
		t.Run("dos_mutaciones", func(t *testing.T) {
			two := `mutation($a: ID!, $b: ID!) { a: activarCliente(id: $a) { id } b: activarCliente(id: $b) { id } }`
			a, err := f.api.send("dos-mutaciones", two, map[string]any{"a": gid.Encode(f.cliente.ID), "b": gid.Encode(f.cliente.ID)})
			refused(t, a, err)
			assert.Contains(t, a.decode(t).Errors[0].Extensions.Fields[idempotencia.HeaderKey], "exactamente una mutación")
		})
		assert.Equal(t, before, f.env.Count(t), "nothing ran")

		t.Run("255_caracteres_vale", func(t *testing.T) {
			a := f.api.must(t, strings.Repeat("k", 255), crearOperacion, f.vars(f.facturas...))
			assert.Equal(t, http.StatusOK, a.status, "%s", a.body)
			assert.Empty(t, a.code(t), "%s", a.body)
		})

		t.Run("en_una_consulta_se_ignora", func(t *testing.T) {
			before := len(claves(t, db))
			q := `query { cliente(id: "` + gid.Encode(f.cliente.ID) + `") { estado } }`
			for _, key := range []string{"consulta-1", "consulta-1", strings.Repeat("k", 300)} {
				a := f.api.must(t, key, q, nil)
				assert.Equal(t, http.StatusOK, a.status, "%s", a.body)
				assert.Empty(t, a.code(t), "%s", a.body)
				assert.False(t, a.replayed())
			}
			assert.Len(t, claves(t, db), before, "no key kept for a query")
		})
	})
}

// Ensure that, with a key, a mutation whose client went away while it
// waited on a lock still runs to its end, and the client's retry gets its
// response. PostgreSQL: a row lock held by another transaction keeps the
// mutation waiting.
func TestClienteQueSeVaConClave(t *testing.T) {
	db := testkit.Postgres(t)
	f := newFixture(t, db, 1)

	// Another transaction locks the cliente, as a concurrent mutation
	// would.
	tx, err := db.SQL.BeginTx(context.Background(), nil)
	require.NoError(t, err)
	defer func() { _ = tx.Rollback() }()
	_, err = tx.Exec(`SELECT id FROM clientes WHERE id = $1 FOR UPDATE`, f.cliente.ID)
	require.NoError(t, err)

	body, err := json.Marshal(map[string]any{"query": crearOperacion, "variables": f.vars(f.facturas...)})
	require.NoError(t, err)
	reqCtx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(reqCtx, http.MethodPost, f.api.url+"/graphql", bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(idempotencia.HeaderKey, "se-fue-1")
	gone := make(chan error, 1)
	go func() {
		res, err := http.DefaultClient.Do(req)
		if err == nil {
			res.Body.Close()
		}
		gone <- err
	}()
	// Once the mutation waits on the lock, the client gives up.
	require.Eventually(t, func() bool {
		var waiting int
		require.NoError(t, db.SQL.QueryRow(`SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&waiting))
		return waiting > 0
	}, 10*time.Second, 5*time.Millisecond)
	cancel()
	require.Error(t, <-gone)
	require.NoError(t, tx.Commit()) // the lock goes; the mutation goes on
	require.Eventually(t, func() bool { return f.env.Count(t).Operaciones == 1 }, 10*time.Second, 5*time.Millisecond,
		"the mutation whose client left committed")

	var a answer
	require.Eventually(t, func() bool {
		a = f.api.must(t, "se-fue-1", crearOperacion, f.vars(f.facturas...))
		return a.status != http.StatusConflict
	}, 10*time.Second, 20*time.Millisecond)
	assert.True(t, a.replayed(), "the retry gets the response of the run its client left: %s", a.body)
	assert.Empty(t, a.code(t), "%s", a.body)
	assert.Equal(t, 1, f.env.Count(t).Operaciones)
}

// Ensure what a retry gets when the server stopped between a mutation's
// commit and the save of its response (simulated: the response taken off
// the key): while the key's lease lasts, IDEMPOTENCY_IN_PROGRESS with
// Retry-After; after it, a CONFLICT saying the mutation was applied. The
// mutation never runs again.
func TestRespuestaPerdida(t *testing.T) {
	testkit.EachDB(t, func(t *testing.T, db *database.DB) {
		f := newFixture(t, db, 1)
		first := f.api.must(t, "perdida-1", crearOperacion, f.vars(f.facturas...))
		require.Empty(t, first.code(t), "%s", first.body)
		require.Eventually(t, func() bool {
			rows := claves(t, db)
			return len(rows) == 1 && rows[0].Respuesta != nil && len(*rows[0].Respuesta) > 0
		}, 10*time.Second, 5*time.Millisecond)
		require.NoError(t, db.Client.ClaveIdempotencia.Update().ClearRespuesta().ClearEstadoHTTP().Exec(context.Background()))

		a := f.api.must(t, "perdida-1", crearOperacion, f.vars(f.facturas...))
		assert.Equal(t, http.StatusConflict, a.status, "%s", a.body)
		assert.Equal(t, string(apperror.IdempotencyInProgress), a.code(t))
		assert.Equal(t, "1", a.header.Get("Retry-After"))

		f.clock.Advance(2 * time.Minute) // past the lease (request timeout + 30 s)
		a = f.api.must(t, "perdida-1", crearOperacion, f.vars(f.facturas...))
		assert.Equal(t, http.StatusConflict, a.status, "%s", a.body)
		assert.Equal(t, string(apperror.Conflict), a.code(t))
		assert.Contains(t, a.decode(t).Errors[0].Message, "ya se aplicó")
		assert.False(t, a.replayed())
		assert.Equal(t, 1, f.env.Count(t).Operaciones)
	})
}
