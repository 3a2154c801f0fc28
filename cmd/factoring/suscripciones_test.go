package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	neturl "net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banpro/factoring/ent"
	"github.com/banpro/factoring/ent/outboxevento"
	"github.com/banpro/factoring/internal/app"
	"github.com/banpro/factoring/internal/auth"
	"github.com/banpro/factoring/internal/clock"
	"github.com/banpro/factoring/internal/config"
	"github.com/banpro/factoring/internal/database"
	"github.com/banpro/factoring/internal/eventos"
	"github.com/banpro/factoring/internal/gid"
	"github.com/banpro/factoring/internal/suscripciones"
	"github.com/banpro/factoring/internal/testkit"
)

// The end-to-end test of subscriptions: the real binary, two `factoring
// serve` processes on one PostgreSQL database, real WebSocket and SSE
// clients. What it measures it reports with t.Logf (go test -v).

var (
	binarioOnce sync.Once
	binarioRuta string
	binarioErr  error
)

// binario builds the factoring binary once per test run.
func binario(t *testing.T) string {
	t.Helper()
	binarioOnce.Do(func() {
		dir, err := os.MkdirTemp("", "factoring-bin-")
		if err != nil {
			binarioErr = err
			return
		}
		binarioRuta = filepath.Join(dir, "factoring")
		out, err := exec.Command("go", "build", "-o", binarioRuta, ".").CombinedOutput()
		if err != nil {
			binarioErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	require.NoError(t, binarioErr)
	return binarioRuta
}

// proceso is one `factoring serve` process.
type proceso struct {
	nombre string
	cmd    *exec.Cmd
	url    string // http://127.0.0.1:PORT
	admin  string // http://127.0.0.1:PORT
	log    *syncBuffer
	salida chan error
}

// servir starts `factoring serve` on databaseURL with authentication on,
// the API and the admin listener on ports of their own, and waits until
// it answers.
func servir(t *testing.T, nombre, databaseURL string, extra map[string]string) *proceso {
	t.Helper()
	env := []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"),
		"FACTORING_DATABASE_URL=" + databaseURL,
		"FACTORING_HTTP_ADDR=127.0.0.1:0",
		"FACTORING_ADMIN_ADDR=127.0.0.1:0",
		"FACTORING_JWT_SECRET=" + string(testkit.Secret),
		"FACTORING_LOG_LEVEL=info",
		"FACTORING_PLAYGROUND=false",
	}
	for k, v := range extra {
		env = append(env, k+"="+v)
	}
	p := &proceso{nombre: nombre, log: &syncBuffer{}, salida: make(chan error, 1)}
	p.cmd = exec.Command(binario(t), "serve")
	p.cmd.Env = env
	p.cmd.Stderr = p.log
	p.cmd.Stdout = p.log
	require.NoError(t, p.cmd.Start())
	go func() { p.salida <- p.cmd.Wait() }()
	t.Cleanup(func() { p.detener(t) })
	require.Eventually(t, func() bool {
		for line := range strings.Lines(p.log.String()) {
			var l struct{ Msg, Addr string }
			if json.Unmarshal([]byte(line), &l) != nil {
				continue
			}
			switch l.Msg {
			case "servidor HTTP escuchando":
				p.url = "http://" + l.Addr
			case "escucha de administración activa (/metrics, /debug/pprof)":
				p.admin = "http://" + l.Addr
			}
		}
		return p.url != "" && p.admin != ""
	}, 30*time.Second, 50*time.Millisecond, "%s did not start: %s", nombre, p.log)
	return p
}

// detener sends SIGTERM and waits for the process to end; it reports how
// long the graceful shutdown took.
func (p *proceso) detener(t *testing.T) {
	if p.cmd.ProcessState != nil {
		return
	}
	start := time.Now()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.salida:
		t.Logf("%s: apagado ordenado en %v", p.nombre, time.Since(start).Round(time.Millisecond))
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		t.Errorf("%s did not stop within 30 s of SIGTERM", p.nombre)
	}
}

// rss is the process's resident memory, in bytes.
func (p *proceso) rss(t *testing.T) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	require.NoError(t, err)
	for line := range strings.Lines(string(b)) {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, err := strconv.ParseInt(f[1], 10, 64)
			require.NoError(t, err)
			return kb << 10
		}
	}
	t.Fatal("no VmRSS")
	return 0
}

// memoria is what the process holds after a garbage collection (the
// admin listener's heap profile runs one): resident memory, heap in use,
// goroutine stacks, and goroutines.
type memoria struct {
	rss, heap, pila int64
	goroutines      float64
}

func (p *proceso) memoria(t *testing.T) memoria {
	t.Helper()
	res, err := http.Get(p.admin + "/debug/pprof/heap?gc=1")
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return memoria{rss: p.rss(t), heap: int64(p.metrica(t, "go_memstats_heap_inuse_bytes")),
		pila: int64(p.metrica(t, "go_memstats_stack_inuse_bytes")), goroutines: p.metrica(t, "go_goroutines")}
}

// metrica reads one unlabelled metric from the admin listener.
func (p *proceso) metrica(t *testing.T, name string) float64 {
	t.Helper()
	res, err := http.Get(p.admin + "/metrics")
	require.NoError(t, err)
	defer res.Body.Close()
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) == 2 && f[0] == name {
			v, err := strconv.ParseFloat(f[1], 64)
			require.NoError(t, err)
			return v
		}
	}
	t.Fatalf("%s: no metric %s", p.nombre, name)
	return 0
}

// esperarSuscripciones waits until the process counts n subscriptions.
func (p *proceso) esperarSuscripciones(t *testing.T, n int) {
	t.Helper()
	require.Eventually(t, func() bool { return int(p.metrica(t, "factoring_subscriptions_active")) == n },
		30*time.Second, 50*time.Millisecond, "%s: factoring_subscriptions_active = %d", p.nombre, n)
}

// mutacion is one mutation sent: through which process, when, and the id
// of its request (the requestId of its events).
type mutacion struct {
	requestID      string
	enviada, resp  time.Time
	proceso        string
	data           json.RawMessage
	errores        string
	status         int
	idempotenteRep bool
}

// enviar posts a GraphQL operation as token's bearer. It may run on any
// goroutine: a failure is recorded in the mutation (errores), never fatal.
func enviar(p *proceso, token, query string, vars map[string]any) mutacion {
	m := mutacion{proceso: p.nombre, enviada: time.Now()}
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, err := http.NewRequest(http.MethodPost, p.url+"/graphql", bytes.NewReader(body))
	if err != nil {
		m.errores = err.Error()
		return m
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		m.errores = err.Error()
		return m
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	m.resp = time.Now()
	m.requestID = res.Header.Get("X-Request-ID")
	m.status = res.StatusCode
	var out struct {
		Data   json.RawMessage
		Errors json.RawMessage
	}
	if err == nil {
		err = json.Unmarshal(raw, &out)
	}
	switch {
	case err != nil:
		m.errores = err.Error() + ": " + string(raw)
	case len(out.Errors) > 0:
		m.errores = string(out.Errors)
	}
	m.data = out.Data
	return m
}

// id reads data.<field>.id of a mutation's answer; a failed mutation is
// an error of the test (not fatal: it may run on any goroutine) and "".
func (m mutacion) id(t *testing.T, field string) string {
	t.Helper()
	if !assert.Empty(t, m.errores, "%s through %s", field, m.proceso) {
		return ""
	}
	var out map[string]struct{ ID string }
	if !assert.NoError(t, json.Unmarshal(m.data, &out)) {
		return ""
	}
	assert.NotEmpty(t, out[field].ID, "%s", m.data)
	return out[field].ID
}

// recibido is an event as a subscriber received it.
type recibido struct {
	id, tipo, sujeto, requestID string
	en                          time.Time
}

// suscriptor collects what one subscription receives.
type suscriptor struct {
	nombre string
	mu     sync.Mutex
	evs    []recibido
	errs   []string
}

func (s *suscriptor) agregar(data []byte) {
	var r struct {
		Data struct {
			Eventos struct {
				ID, Tipo, Sujeto, RequestID string
			}
		}
		Errors json.RawMessage
	}
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := json.Unmarshal(data, &r); err != nil || len(r.Errors) > 0 {
		s.errs = append(s.errs, string(data))
		return
	}
	e := r.Data.Eventos
	s.evs = append(s.evs, recibido{id: e.ID, tipo: e.Tipo, sujeto: e.Sujeto, requestID: e.RequestID, en: now})
}

func (s *suscriptor) copia() []recibido {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.evs)
}

const subCampos = `subscription($tipos: [String!], $c: ID, $o: ID) {
  eventos(tipos: $tipos, clienteId: $c, operacionId: $o) { id tipo sujeto requestId fecha datos }
}`

// suscribirWS subscribes on w with id and routes what arrives to s.
func suscribirWS(t *testing.T, w *testkit.WS, subs map[string]*suscriptor, id string, vars map[string]any) {
	t.Helper()
	subs[id] = &suscriptor{nombre: id}
	w.Subscribe(id, subCampos, vars)
}

// repartir routes a connection's messages to its subscribers until it ends.
func repartir(w *testkit.WS, subs map[string]*suscriptor) {
	for m := range w.Messages {
		if s := subs[m.ID]; s != nil && m.Type == "next" {
			s.agregar(m.Payload)
		} else if s != nil {
			s.mu.Lock()
			s.errs = append(s.errs, m.Type+" "+string(m.Payload))
			s.mu.Unlock()
		}
	}
}

// esperado is an outbox row as a subscriber should see it.
type esperado struct {
	seq                              int
	id, tipo, sujeto, cliente, opera string
}

// Ensure, with two server processes on one PostgreSQL database and real
// clients: that 200 mutations sent through both processes reach every
// subscriber of each process exactly once (the events that committed, and
// only those its filter accepts: all, by tipo, by cliente, by operación;
// over WebSocket and SSE), each entity's in commit order; that a mutation
// that rolled back is never seen; that a stalled consumer is dropped
// while the server's memory stays flat; what 1,000 idle subscriptions
// cost; and that SIGTERM ends the streams and the processes promptly.
func TestSuscripcionesDosProcesos(t *testing.T) {
	url := testkit.EmptyPostgresURL(t)
	// Migrated as the owner; served as the role migrate makes, as in
	// production (it may LISTEN, as any role may).
	migrar := newCLI(t, url)
	role := fmt.Sprintf("factoring_app_%d", time.Now().UnixNano()%1_000_000_000)
	migrar.env["FACTORING_DB_SERVING_ROLE"] = role
	migrar.mustRun("migrate")
	t.Cleanup(func() {
		owner, err := database.Open(context.Background(), url, database.Options{})
		if err != nil {
			return
		}
		defer owner.Close()
		_, _ = owner.SQL.Exec("DROP OWNED BY " + role)
		_, _ = owner.SQL.Exec("DROP ROLE IF EXISTS " + role)
	})
	served, err := neturl.Parse(url)
	require.NoError(t, err)
	served.User = neturl.User(role)
	a := servir(t, "A", served.String(), nil)
	b := servir(t, "B", served.String(), map[string]string{
		"FACTORING_SUBSCRIPTION_CONNECTIONS_PER_SUBJECT": "1000",
	})
	procesos := []*proceso{a, b}
	var (
		ana    = testkit.Token(t, "ana", auth.Analista)
		rita   = testkit.Token(t, "rita", auth.Riesgo)
		tere   = testkit.Token(t, "tere", auth.Tesoreria)
		lector = testkit.Token(t, "luis", auth.Lector)
	)
	var n atomic.Int64 // mutations sent
	var mu sync.Mutex
	var enviadas []mutacion
	mut := func(token, query string, vars map[string]any) mutacion {
		i := n.Add(1)
		m := enviar(procesos[i%2], token, query, vars)
		mu.Lock()
		enviadas = append(enviadas, m)
		mu.Unlock()
		return m
	}
	hoy := time.Now().In(testkit.Santiago)

	// Phase 1, before anyone subscribes: four clientes, active, one
	// operación for the first.
	const nClientes = 4
	clientes := make([]string, nClientes)
	for k := range clientes {
		in := testkit.ClienteInput("100000000")
		clientes[k] = mut(ana, `mutation($in: CrearClienteInput!) { crearCliente(input: $in) { id } }`,
			map[string]any{"in": map[string]any{"rut": in.Rut, "razonSocial": in.RazonSocial, "email": in.Email,
				"lineaCredito": "100000000"}}).id(t, "crearCliente")
		mut(rita, `mutation($id: ID!) { activarCliente(id: $id) { id } }`, map[string]any{"id": clientes[k]}).id(t, "activarCliente")
	}
	factura := func(k, i int) string {
		return mut(ana, `mutation($in: RegistrarFacturaInput!) { registrarFactura(input: $in) { id } }`, map[string]any{"in": map[string]any{
			"clienteId": clientes[k], "numeroFactura": fmt.Sprintf("S-%d-%d", k, i), "rutDeudor": "76.543.210-3",
			"razonSocialDeudor": "Deudor Uno SpA", "montoTotal": "100000.00",
			"fechaEmision": hoy.AddDate(0, 0, -1).Format(time.DateOnly), "fechaVencimiento": hoy.AddDate(0, 0, 60).Format(time.DateOnly),
		}}).id(t, "registrarFactura")
	}
	crearOp := func(k int, facturas ...string) string {
		return mut(ana, `mutation($c: ID!, $f: [ID!]!) { crearOperacion(input: {clienteId: $c, facturaIds: $f}) { id } }`,
			map[string]any{"c": clientes[k], "f": facturas}).id(t, "crearOperacion")
	}
	op0 := crearOp(0, factura(0, 100), factura(0, 101))
	require.EqualValues(t, 11, n.Load())

	// The subscribers: on each process one WebSocket connection with four
	// subscriptions (all, cliente.linea_ajustada, the first cliente, its
	// operación) and one SSE stream (all).
	type subsDe struct {
		ws  map[string]*suscriptor
		sse *suscriptor
	}
	subs := map[string]*subsDe{}
	for _, p := range procesos {
		w, _, err := testkit.DialWS(t, p.url, testkit.WSOptions{})
		require.NoError(t, err)
		require.True(t, w.Init(map[string]any{"Authorization": "Bearer " + lector}))
		s := &subsDe{ws: map[string]*suscriptor{}}
		suscribirWS(t, w, s.ws, "todos", nil)
		suscribirWS(t, w, s.ws, "ajustes", map[string]any{"tipos": []string{"cliente.linea_ajustada"}})
		suscribirWS(t, w, s.ws, "cliente0", map[string]any{"c": clientes[0]})
		suscribirWS(t, w, s.ws, "op0", map[string]any{"o": op0})
		go repartir(w, s.ws)
		sse := testkit.SubscribeSSE(t, p.url, lector, subCampos, nil)
		require.Equal(t, http.StatusOK, sse.Res.StatusCode)
		s.sse = &suscriptor{nombre: "sse"}
		go func() {
			for e := range sse.Events {
				if e.Event == "next" {
					s.sse.agregar([]byte(e.Data))
				}
			}
		}()
		subs[p.nombre] = s
	}
	for _, p := range procesos {
		p.esperarSuscripciones(t, 5)
	}
	suscritos := time.Now()
	ctx := context.Background()
	db, err := database.Open(ctx, served.String(), database.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	desde, err := db.Client.OutboxEvento.Query().Aggregate(ent.Max(outboxevento.FieldID)).Int(ctx)
	require.NoError(t, err)
	rssAntes := map[string]int64{a.nombre: a.rss(t), b.nombre: b.rss(t)}

	// Phase 2, 189 mutations from 10 goroutines through both processes:
	// each cliente's own story (10 facturas, 5 operaciones: crear, then
	// aprobar or rechazar, desembolsar the approved: 23 mutations) and, at
	// the same time, 95 line adjustments of the same clientes; op0
	// approved and paid out. Meanwhile 10 adjustments roll back at their
	// last step.
	var wg sync.WaitGroup
	for k := range nClientes {
		wg.Go(func() {
			var fs []string
			for i := range 10 {
				fs = append(fs, factura(k, i))
			}
			for j := range 5 {
				op := crearOp(k, fs[2*j], fs[2*j+1])
				if j < 3 {
					mut(rita, `mutation($o: ID!) { aprobarOperacion(id: $o) { id } }`, map[string]any{"o": op}).id(t, "aprobarOperacion")
					mut(tere, `mutation($o: ID!) { desembolsarOperacion(id: $o) { id } }`, map[string]any{"o": op}).id(t, "desembolsarOperacion")
				} else {
					mut(rita, `mutation($o: ID!) { rechazarOperacion(id: $o, motivo: "Deudor con mora") { id } }`, map[string]any{"o": op}).id(t, "rechazarOperacion")
				}
			}
		})
	}
	for g := range 5 {
		wg.Go(func() {
			for i := range 19 {
				k := (g + i) % nClientes
				mut(rita, `mutation($id: ID!, $l: Decimal!) { ajustarLineaCredito(id: $id, lineaCredito: $l) { id } }`,
					map[string]any{"id": clientes[k], "l": strconv.Itoa(100_000_000 + 1000*(g*19+i+1))}).id(t, "ajustarLineaCredito")
			}
		})
	}
	wg.Go(func() {
		mut(rita, `mutation($o: ID!) { aprobarOperacion(id: $o) { id } }`, map[string]any{"o": op0}).id(t, "aprobarOperacion")
		mut(tere, `mutation($o: ID!) { desembolsarOperacion(id: $o) { id } }`, map[string]any{"o": op0}).id(t, "desembolsarOperacion")
	})
	revertidas := map[string]bool{}
	wg.Go(func() {
		svc := app.Services(db, mustConfig(t), clock.System{})
		for i := range 10 {
			id, _, _ := gid.Decode(clientes[i%nClientes])
			linea := strconv.Itoa(777_000_000 + i)
			revertidas[linea+".00"] = true
			boom := fmt.Errorf("revertida %d", i)
			rb := database.BeforeCommit(ctx, func(context.Context, *ent.Tx) error { return boom })
			_, err := svc.Clientes.AjustarLineaCredito(rb, id, testkit.Dec(linea))
			assert.ErrorIs(t, err, boom)
		}
	})
	wg.Wait()
	require.EqualValues(t, 200, n.Load(), "200 mutations in all")

	// What committed: the outbox after the subscribers arrived.
	rows, err := db.Client.OutboxEvento.Query().Where(outboxevento.IDGT(desde)).Order(ent.Asc(outboxevento.FieldID)).All(ctx)
	require.NoError(t, err)
	var todos []esperado
	for _, r := range rows {
		var s eventos.Sobre
		require.NoError(t, json.Unmarshal([]byte(r.Cuerpo), &s))
		var d map[string]any
		require.NoError(t, json.Unmarshal(s.Data, &d))
		require.False(t, revertidas[fmt.Sprint(d["linea_credito"])], "a rolled-back adjustment in the outbox")
		cl, _ := d["cliente_id"].(string)
		op, _ := d["operacion_id"].(string)
		todos = append(todos, esperado{seq: r.ID, id: s.ID, tipo: string(s.Type), sujeto: s.Subject, cliente: cl, opera: op})
	}
	require.GreaterOrEqual(t, len(todos), 189, "every phase-2 mutation enqueued at least one event")
	filtros := map[string]func(esperado) bool{
		"todos":    func(esperado) bool { return true },
		"ajustes":  func(e esperado) bool { return e.tipo == "cliente.linea_ajustada" },
		"cliente0": func(e esperado) bool { return e.cliente == clientes[0] },
		"op0":      func(e esperado) bool { return e.opera == op0 },
	}
	porID := map[string]esperado{}
	for _, e := range todos {
		porID[e.id] = e
	}
	comprobar := func(t *testing.T, s *suscriptor, acepta func(esperado) bool) []recibido {
		t.Helper()
		want := map[string]bool{}
		for _, e := range todos {
			if acepta(e) {
				want[e.id] = true
			}
		}
		require.NotEmpty(t, want)
		require.Eventually(t, func() bool { return len(s.copia()) >= len(want) }, 60*time.Second, 20*time.Millisecond,
			"%s: %d of %d events", s.nombre, len(s.copia()), len(want))
		time.Sleep(500 * time.Millisecond) // nothing more comes
		got := s.copia()
		assert.Empty(t, s.errs)
		require.Len(t, got, len(want), "%s: exactly the matching events, once each", s.nombre)
		ultimo := map[string]int{} // sujeto → last seq seen
		for _, r := range got {
			e, ok := porID[r.id]
			require.True(t, ok, "%s: an event that is not in the outbox: %+v", s.nombre, r)
			require.True(t, want[r.id], "%s: an event its filter does not accept: %+v", s.nombre, r)
			assert.Greater(t, e.seq, ultimo[e.sujeto], "%s: %s's events in commit order", s.nombre, e.sujeto)
			ultimo[e.sujeto] = e.seq
		}
		return got
	}
	porRequest := map[string]mutacion{}
	for _, m := range enviadas {
		porRequest[m.requestID] = m
	}
	for _, p := range procesos {
		t.Run("proceso_"+p.nombre, func(t *testing.T) {
			s := subs[p.nombre]
			for name, acepta := range filtros {
				t.Run(name, func(t *testing.T) { comprobar(t, s.ws[name], acepta) })
			}
			var desdeResp, desdeEnvio []time.Duration
			t.Run("sse", func(t *testing.T) {
				for _, r := range comprobar(t, s.sse, filtros["todos"]) {
					m, ok := porRequest[r.requestID]
					require.True(t, ok, "every event names the request of its mutation")
					desdeResp = append(desdeResp, r.en.Sub(m.resp))
					desdeEnvio = append(desdeEnvio, r.en.Sub(m.enviada))
				}
			})
			t.Logf("proceso %s: %d eventos; latencia hasta el suscriptor SSE, desde la respuesta de la mutación: p50 %v, p99 %v; "+
				"desde su envío: p50 %v, p99 %v", p.nombre, len(desdeResp),
				percentil(desdeResp, 50).Round(10*time.Microsecond), percentil(desdeResp, 99).Round(10*time.Microsecond),
				percentil(desdeEnvio, 50).Round(10*time.Microsecond), percentil(desdeEnvio, 99).Round(10*time.Microsecond))
		})
	}
	t.Logf("eventos confirmados: %d de 200 mutaciones (10 revertidas no aparecen); RSS A %d MB → %d MB, B %d MB → %d MB",
		len(todos), rssAntes["A"]>>20, a.rss(t)>>20, rssAntes["B"]>>20, b.rss(t)>>20)

	t.Run("consumidor_detenido", func(t *testing.T) {
		consumidorDetenido(t, a, db, clientes[1], lector)
	})
	t.Run("mil_suscripciones_ociosas", func(t *testing.T) {
		milOciosas(t, b)
	})
	t.Run("siguen_vivas_pasados_los_plazos_HTTP", func(t *testing.T) {
		// The server's read (30 s) and write (40 s) timeouts and the
		// request deadline (30 s) are a request's: the first streams,
		// open since before phase 2, still deliver past them.
		if espera := 45*time.Second - time.Since(suscritos); espera > 0 {
			time.Sleep(espera)
		}
		antes := map[string][2]int{}
		for _, p := range procesos {
			antes[p.nombre] = [2]int{len(subs[p.nombre].ws["todos"].copia()), len(subs[p.nombre].sse.copia())}
		}
		id := mut(rita, `mutation($id: ID!) { ajustarLineaCredito(id: $id, lineaCredito: "123456789") { id } }`,
			map[string]any{"id": clientes[2]}).id(t, "ajustarLineaCredito")
		require.NotEmpty(t, id)
		for _, p := range procesos {
			s := subs[p.nombre]
			require.Eventually(t, func() bool {
				return len(s.ws["todos"].copia()) == antes[p.nombre][0]+1 && len(s.sse.copia()) == antes[p.nombre][1]+1
			}, 10*time.Second, 20*time.Millisecond, "%s: the WebSocket and SSE subscribers of %v ago", p.nombre, time.Since(suscritos).Round(time.Second))
		}
	})
	t.Run("SIGTERM_cierra_los_streams", func(t *testing.T) {
		w, _, err := testkit.DialWS(t, a.url, testkit.WSOptions{})
		require.NoError(t, err)
		require.True(t, w.Init(map[string]any{"Authorization": "Bearer " + lector}))
		w.Subscribe("1", subCampos, nil)
		sse := testkit.SubscribeSSE(t, a.url, lector, subCampos, nil)
		require.Equal(t, http.StatusOK, sse.Res.StatusCode)
		a.esperarSuscripciones(t, 5+2)
		start := time.Now()
		a.detener(t)
		assert.Less(t, time.Since(start), 10*time.Second, "open streams do not hold the shutdown")
		code, reason := w.Closed(10 * time.Second)
		assert.Equal(t, suscripciones.CodigoApagado, code)
		assert.Contains(t, reason, "apagando")
		var fin testkit.SSEEvent
		for e := range sse.Events {
			fin = e
		}
		assert.Equal(t, "error", fin.Event, "the SSE stream ends with an error event")
		assert.Contains(t, fin.Data, "SERVICE_UNAVAILABLE")
	})
}

func mustConfig(t *testing.T) config.Config {
	t.Helper()
	cfg, err := config.Load(func(string) (string, bool) { return "", false })
	require.NoError(t, err)
	return cfg
}

// consumidorDetenido: tens of megabytes of events commit twice, first
// with one subscriber that reads, then with that one and a WebSocket and
// an SSE client that stop reading. The stalled ones are dropped (4413, an
// error event) once they leave half their buffer unread for the grace
// period, the reader gets every event both times, and the server's memory
// in the second round is what it was in the first: it does not follow
// what stalled clients leave unread.
func consumidorDetenido(t *testing.T, p *proceso, db *database.DB, clienteID, lector string) {
	ctx := context.Background()
	base := int(p.metrica(t, "factoring_subscriptions_active"))
	id, _, _ := gid.Decode(clienteID)
	c, err := db.Client.Cliente.Get(ctx, id)
	require.NoError(t, err)
	relleno := strings.Repeat("x", 8<<10)
	const lotes, porLote = 30, 200 // 6,000 events of 8 KB: 47 MB

	rapido := testkit.SubscribeSSE(t, p.url, lector, `subscription { eventos { id } }`, nil)
	var leidos atomic.Int64
	go func() {
		for e := range rapido.Events {
			if e.Event == "next" {
				leidos.Add(1)
			}
		}
	}()
	p.esperarSuscripciones(t, base+1)

	// ronda commits the events, in batches of 200 through eventos.Enqueue
	// as mutations enqueue them, and samples the server's RSS after each.
	ronda := func(cada func()) (muestras []int64) {
		t.Helper()
		leidos.Store(0)
		for range lotes {
			evs := make([]eventos.Event, porLote)
			for i := range evs {
				evs[i] = eventos.Cliente(eventos.ClienteActualizado, c, map[string]any{"relleno": relleno}, time.Now())
			}
			require.NoError(t, db.WithTx(ctx, func(tx *ent.Tx) error { return eventos.Enqueue(ctx, tx, evs...) }))
			muestras = append(muestras, p.rss(t))
			cada()
		}
		require.Eventually(t, func() bool { return leidos.Load() == lotes*porLote }, 60*time.Second, 20*time.Millisecond,
			"the reader got %d of %d", leidos.Load(), lotes*porLote)
		return muestras
	}
	mb := func(b int64) string { return fmt.Sprintf("%.0f", float64(b)/(1<<20)) }
	serie := func(m []int64) string {
		out := make([]string, len(m))
		for i, v := range m {
			out[i] = mb(v)
		}
		return strings.Join(out, " ")
	}

	m0 := p.memoria(t)
	sinDetenidos := ronda(func() {})
	m1 := p.memoria(t)

	lento, _, err := testkit.DialWS(t, p.url, testkit.WSOptions{})
	require.NoError(t, err)
	require.True(t, lento.Init(map[string]any{"Authorization": "Bearer " + lector}))
	lento.Subscribe("1", subCampos, nil)
	// An SSE client that never reads its response.
	body, _ := json.Marshal(map[string]any{"query": subCampos})
	req, err := http.NewRequest(http.MethodPost, p.url+"/graphql", bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Authorization", "Bearer "+lector)
	sseRes, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	t.Cleanup(func() { sseRes.Body.Close() })
	require.Equal(t, http.StatusOK, sseRes.StatusCode)
	p.esperarSuscripciones(t, base+3)
	lento.Pause()
	inicio := time.Now()
	var caida time.Duration
	conDetenidos := ronda(func() {
		if caida == 0 && int(p.metrica(t, "factoring_subscriptions_active")) == base+1 {
			caida = time.Since(inicio)
			lento.Resume() // to read the close frame, if it got out
		}
	})
	p.esperarSuscripciones(t, base+1)
	lento.Resume()
	code, reason := lento.Closed(30 * time.Second)
	assert.Contains(t, []int{suscripciones.CodigoConsumidorLento, -1}, code,
		"4413, or cut when the close frame could not get through a full socket")
	if code == suscripciones.CodigoConsumidorLento {
		assert.Contains(t, reason, "Consumidor lento")
	}
	// The SSE client reads now: the events the server got out before it
	// gave up, then (when the socket had room for it) the error event.
	final, err := io.ReadAll(sseRes.Body)
	conError := bytes.Contains(final, []byte("event: error")) && bytes.Contains(final, []byte("SUBSCRIPTION_LIMIT_EXCEEDED"))
	m2 := p.memoria(t)
	t.Logf("consumidor detenido: 2 rondas de %d eventos (%d MB) con un suscriptor SSE que lee; en la segunda, además, un "+
		"cliente WebSocket y uno SSE que no leen, soltados a los %v. RSS del servidor (MB), tras cada lote: sin detenidos [%s], "+
		"con detenidos [%s]; después de cada ronda %s → %s → %s; heap en uso %s → %s → %s MB. WebSocket cerrado con %d %q; "+
		"el SSE detenido recibió %s MB y %s",
		lotes*porLote, lotes*porLote*len(relleno)>>20, caida.Round(100*time.Millisecond), serie(sinDetenidos), serie(conDetenidos),
		mb(m0.rss), mb(m1.rss), mb(m2.rss), mb(m0.heap), mb(m1.heap), mb(m2.heap), code, reason, mb(int64(len(final))),
		map[bool]string{true: "el evento error (SUBSCRIPTION_LIMIT_EXCEEDED)",
			false: fmt.Sprintf("un corte (%v): el socket lleno no dejó pasar el evento error", err)}[conError])
	// RSS moves with the garbage collector (the backlog a drop releases is
	// read in bursts of 500 rows of 8 KB): the envelope is what counts.
	assert.LessOrEqual(t, slices.Max(conDetenidos), slices.Max(sinDetenidos)+32<<20,
		"stalled clients do not make the server hold more")
	assert.Less(t, m2.heap-m0.heap, int64(16<<20), "the heap goes back once the data went out")
	assert.NotZero(t, caida, "the stalled clients were dropped while the events came")
}

// milOciosas: 1,000 idle subscriptions on one process, as 50 connections
// of 20 and as 1,000 connections of one; what each costs in memory and
// goroutines.
func milOciosas(t *testing.T, p *proceso) {
	base := int(p.metrica(t, "factoring_subscriptions_active"))
	medir := func(nombre string, conexiones, porConexion int) {
		t.Helper()
		m0 := p.memoria(t)
		var ws []*testkit.WS
		for i := range conexiones {
			w, _, err := testkit.DialWS(t, p.url, testkit.WSOptions{Buffer: 16})
			require.NoError(t, err)
			require.True(t, w.Init(map[string]any{"Authorization": "Bearer " + testkit.Token(t, fmt.Sprintf("ocioso%d", i%10), auth.Lector)}))
			for j := range porConexion {
				w.Subscribe(strconv.Itoa(j), `subscription { eventos(tipos: ["operacion.aprobada"]) { id tipo } }`, nil)
			}
			ws = append(ws, w)
		}
		p.esperarSuscripciones(t, base+conexiones*porConexion)
		time.Sleep(2 * time.Second)
		m1 := p.memoria(t)
		n := float64(conexiones * porConexion)
		t.Logf("%s: %d suscripciones en %d conexiones: heap+pilas %.1f KB por suscripción (heap %d → %d MB, pilas %d → %d MB), "+
			"RSS %d → %d MB (%.1f KB por suscripción), goroutines %.0f → %.0f (%.2f por suscripción)",
			nombre, int(n), conexiones, float64(m1.heap+m1.pila-m0.heap-m0.pila)/1024/n, m0.heap>>20, m1.heap>>20, m0.pila>>20, m1.pila>>20,
			m0.rss>>20, m1.rss>>20, float64(m1.rss-m0.rss)/1024/n, m0.goroutines, m1.goroutines, (m1.goroutines-m0.goroutines)/n)
		for _, w := range ws {
			w.Close()
		}
		p.esperarSuscripciones(t, base)
	}
	medir("multiplexadas", 50, 20)
	medir("una_por_conexion", 1000, 1)
}
