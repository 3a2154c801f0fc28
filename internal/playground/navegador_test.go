package playground_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banpro/factoring/ent/cliente"
	"github.com/banpro/factoring/internal/auth"
	"github.com/banpro/factoring/internal/clock"
	"github.com/banpro/factoring/internal/database"
	"github.com/banpro/factoring/internal/seed"
	"github.com/banpro/factoring/internal/testkit"
)

// EnvRequireBrowser makes the browser test fail, instead of skipping, when
// no Chromium is installed (CI sets it).
const EnvRequireBrowser = "FACTORING_REQUIRE_BROWSER"

// chromium finds a Chromium to drive, or skips the test, loudly: on the
// line `make test` prints after the run, as for PostgreSQL.
func chromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("FACTORING_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := "Chromium no encontrado: se omitió la prueba del playground en un navegador " +
		"(apt-get install -y chromium, o FACTORING_CHROMIUM=/ruta/al/navegador)"
	if os.Getenv(EnvRequireBrowser) == "1" {
		t.Fatalf("%s y %s=1", msg, EnvRequireBrowser)
	}
	if path := os.Getenv(testkit.EnvSkipReport); path != "" {
		if f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600); err == nil {
			_, _ = f.WriteString(msg + "\n")
			_ = f.Close()
		}
	}
	t.Skip("!!! ATENCIÓN: " + msg)
	return ""
}

// Ensure, in a real browser, the first minutes of a frontend developer
// with authentication on: the playground loads with the README's example
// tabs; a token entered once in its field fetches the schema (the docs
// pane lists the root types) and runs an example tab's operation with its
// variables; after a reload the token is still there (sessionStorage, not
// localStorage) and so are the docs; the Explorer plugin opens; and no
// request ever leaves the server's origin, nor does the page break its
// Content-Security-Policy.
func TestNavegadorPlaygroundConToken(t *testing.T) {
	browser := chromium(t)

	db := testkit.SQLite(t)
	_, err := seed.Run(t.Context(), db, seed.Options{Clock: clock.NewFixed(testkit.Hoy), TimeZone: testkit.Santiago})
	require.NoError(t, err)
	cfg := testkit.WithAuth(testkit.Config(t))
	h, _ := testkit.Handler(t, db, testkit.ServeOptions{Config: &cfg})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	origin, err := url.Parse(srv.URL)
	require.NoError(t, err)
	token := testkit.Token(t, "ana", auth.Lector)

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(browser),
		chromedp.NoSandbox, // CI runs as root
		chromedp.DisableGPU,
		chromedp.WindowSize(1400, 900),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	defer cancelCtx()
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()

	var (
		mu       sync.Mutex
		requests []string
		problems []string // console errors, exceptions, CSP violations
	)
	chromedp.ListenTarget(ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch e := ev.(type) {
		case *network.EventWebSocketCreated:
			requests = append(requests, e.URL)
		case *network.EventRequestWillBeSent:
			u := e.Request.URL
			if len(u) > 120 {
				u = u[:120] + "…"
			}
			requests = append(requests, u)
		case *runtime.EventExceptionThrown:
			problems = append(problems, "exception: "+e.ExceptionDetails.Error())
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.APITypeError {
				var args []string
				for _, a := range e.Args {
					args = append(args, string(a.Value)+a.Description)
				}
				problems = append(problems, "console.error: "+strings.Join(args, " "))
			}
		}
	})

	// text waits until the element matched by sel contains want.
	text := func(sel, want string) chromedp.Action {
		return chromedp.Poll(fmt.Sprintf(`(() => { const e = document.querySelector(%q); return !!e && e.innerText.includes(%q); })()`, sel, want), nil,
			chromedp.WithPollingTimeout(30*time.Second))
	}
	const docs = `button[aria-label="Show Documentation Explorer"]`

	steps := []struct {
		name    string
		actions []chromedp.Action
	}{
		{"carga_con_las_pestanas_del_README", []chromedp.Action{
			network.Enable(),
			runtime.Enable(),
			chromedp.Navigate(srv.URL + "/playground"),
			chromedp.WaitVisible(`#playground-token`),
			chromedp.WaitVisible(`button[title="Cartera"]`),
			chromedp.WaitVisible(`button[title="Operacion"]`),
			chromedp.WaitVisible(`button[title="CrearOperacion"]`),
		}},
		{"token_una_vez", []chromedp.Action{
			chromedp.SendKeys(`#playground-token`, token+kb.Enter),
			text(`.playground-token-estado`, "Token de ana"),
		}},
		{"la_documentacion_tiene_el_esquema", []chromedp.Action{
			chromedp.Click(docs),
			chromedp.WaitVisible(`.graphiql-doc-explorer-root-type`),
			text(`.graphiql-doc-explorer`, "Query"),
		}},
		{"una_pestana_de_ejemplo_con_variables_corre", []chromedp.Action{
			chromedp.Click(`button[title="Operacion"]`),
			chromedp.Click(`//div[contains(@class,"graphiql-editor-tools")]//button[normalize-space()="Variables"]`, chromedp.BySearch),
			text(`.graphiql-editor-tool`, "T3BlcmFjaW9uOjE"), // its variables, shown
			// GraphiQL reads the tab's operation name 100 ms after the
			// switch (a debounce); a click before that would run it under
			// the previous tab's name. Wait as a person would, for it.
			chromedp.Poll(`document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.operationName === 'Operacion'`, nil,
				chromedp.WithPollingTimeout(30*time.Second)),
			chromedp.Click(`.graphiql-execute-button`),
			text(`.graphiql-response`, `"FINALIZADA"`),
			text(`.graphiql-response`, `"eventos"`),
		}},
		{"tras_recargar_sigue_el_token_y_la_documentacion", []chromedp.Action{
			chromedp.Reload(),
			chromedp.WaitVisible(`#playground-token`),
			text(`.playground-token-estado`, "Token de ana"),
			chromedp.Click(docs),
			chromedp.WaitVisible(`.graphiql-doc-explorer-root-type`),
		}},
		{"el_explorer_abre", []chromedp.Action{
			chromedp.Click(`button[aria-label="Show GraphiQL Explorer"]`),
			chromedp.WaitVisible(`.graphiql-explorer-root`),
			text(`.graphiql-explorer-root`, "clientes"),
		}},
		{"una_suscripcion_recibe_un_evento", []chromedp.Action{
			chromedp.Click(`button[aria-label="New tab"]`),
			chromedp.Evaluate(`document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.setValue(`+
				"`subscription Lineas { eventos(tipos: [\"cliente.linea_ajustada\"]) { tipo sujeto datos nodo { ... on Cliente { razonSocial lineaCredito } } } }`"+
				`)`, nil),
			chromedp.Poll(`document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.operationName === 'Lineas'`, nil,
				chromedp.WithPollingTimeout(30*time.Second)),
			chromedp.Click(`.graphiql-execute-button`),
			chromedp.ActionFunc(func(ctx context.Context) error {
				// Nothing in the page says when the subscription is in
				// place: adjust a line every 300 ms until one shows.
				done := make(chan struct{})
				defer close(done)
				go ajustarLineas(t, db, done)
				return chromedp.Run(ctx, text(`.graphiql-response`, `"cliente.linea_ajustada"`),
					text(`.graphiql-response`, `"Empresa Alpha SpA"`))
			}),
		}},
	}
	for _, s := range steps {
		if err := chromedp.Run(ctx, s.actions...); err != nil {
			// A screenshot of the page as the step left it, for whoever
			// reads the failure.
			var png []byte
			shot := filepath.Join(os.TempDir(), "playground-"+s.name+".png")
			if chromedp.Run(ctx, chromedp.FullScreenshot(&png, 100)) == nil && os.WriteFile(shot, png, 0o644) == nil {
				t.Logf("captura: %s", shot)
			}
			mu.Lock()
			defer mu.Unlock()
			t.Fatalf("%s: %v\nproblems: %v\nrequests: %v", s.name, err, problems, requests)
		}
	}

	var local, session string
	require.NoError(t, chromedp.Run(ctx,
		chromedp.Evaluate(`JSON.stringify(window.localStorage)`, &local),
		chromedp.Evaluate(`JSON.stringify(window.sessionStorage)`, &session)))
	assert.NotContains(t, local, token, "the token never goes to localStorage")
	assert.Contains(t, session, token, "the token is kept for the browser tab")

	mu.Lock()
	defer mu.Unlock()
	assert.Empty(t, problems, "no console error, exception or CSP violation")
	require.NotEmpty(t, requests)
	var graphql, websockets int
	for _, r := range requests {
		u, err := url.Parse(r)
		require.NoError(t, err, r)
		if u.Scheme == "data" {
			continue // inline data (an icon), not a request
		}
		if u.Scheme == "ws" {
			assert.Equal(t, origin.Host, u.Host, "a WebSocket to another host: %s", r)
			websockets++
			continue
		}
		assert.Equal(t, origin.Scheme+"://"+origin.Host, u.Scheme+"://"+u.Host, "a request left the origin: %s", r)
		if u.Path == "/graphql" {
			graphql++
		}
	}
	assert.GreaterOrEqual(t, graphql, 3, "introspection twice and the query: %v", requests)
	assert.Equal(t, 1, websockets, "the subscription's WebSocket: %v", requests)
}

// ajustarLineas raises Empresa Alpha's credit line every 300 ms until done:
// each adjustment commits a cliente.linea_ajustada event.
func ajustarLineas(t *testing.T, db *database.DB, done <-chan struct{}) {
	env := testkit.NewEnv(t, db)
	c, err := db.Client.Cliente.Query().Where(cliente.Rut("12.345.678-5")).Only(env.Ctx)
	if err != nil {
		t.Errorf("Empresa Alpha: %v", err)
		return
	}
	linea := c.LineaCredito
	tick := time.NewTicker(300 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-done:
			return
		case <-tick.C:
			linea = linea.Add(decimal.NewFromInt(1000))
			if _, err := env.Svc.Clientes.AjustarLineaCredito(env.Ctx, c.ID, linea); err != nil {
				t.Errorf("ajustar la línea: %v", err)
				return
			}
		}
	}
}
