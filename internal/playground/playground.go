// Package playground serves GraphiQL, the API's interactive IDE, from assets
// embedded in the binary (assets/README.md lists them, with versions and
// hashes): GraphiQL 4.1.2, React 18.2.0, the Explorer plugin and the
// graphql-ws client (subscriptions over WebSocket) from npm, and the page's
// own script. The page so works offline and loads nothing
// from a third party; its Content-Security-Policy allows scripts from this
// origin only, no inline script at all.
//
// The page opens with one tab per example operation of the README, with
// its variables (ejemplos.json, checked against the README by a test), and
// a token field: the token is kept for the browser tab (sessionStorage)
// and sent with every request, introspection included, so the docs and
// autocomplete work from the first load with authentication on.
package playground

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strings"
)

//go:embed assets/*.js assets/*.css
var assets embed.FS

// ejemplosJSON are the README's example operations, one GraphiQL tab each.
//
//go:embed ejemplos.json
var ejemplosJSON []byte

// Tab is one of GraphiQL's default tabs: an operation and its variables.
type Tab struct {
	Query     string `json:"query"`
	Variables string `json:"variables,omitempty"`
}

// Tabs returns the tabs the page opens with.
func Tabs() ([]Tab, error) {
	var tabs []Tab
	if err := json.Unmarshal(ejemplosJSON, &tabs); err != nil {
		return nil, fmt.Errorf("playground: ejemplos.json: %w", err)
	}
	return tabs, nil
}

// Handler serves the page at its path and its assets under path + "/assets/".
type Handler struct {
	path   string
	page   []byte
	csp    string
	assets http.Handler
}

// asset is a file the page loads, with its Subresource Integrity hash.
type asset struct {
	URL       string
	Integrity string
}

var page = template.Must(template.New("playground").Parse(`<!DOCTYPE html>
<html lang="es">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
{{range .Styles}}<link rel="stylesheet" href="{{.URL}}" integrity="{{.Integrity}}" crossorigin="anonymous">
{{end -}}
</head>
<body>
<div id="playground" data-endpoint="{{.Endpoint}}"><div class="playground-cargando">Cargando…</div></div>
<script type="application/json" id="playground-ejemplos">{{.Tabs}}</script>
{{range .Scripts}}<script src="{{.URL}}" integrity="{{.Integrity}}" crossorigin="anonymous"></script>
{{end -}}
</body>
</html>
`))

// New builds the playground served at path (e.g. "/playground") for the
// GraphQL endpoint (e.g. "/graphql").
func New(title, path, endpoint string) (*Handler, error) {
	load := func(names ...string) ([]asset, error) {
		out := make([]asset, len(names))
		for i, name := range names {
			b, err := assets.ReadFile("assets/" + name)
			if err != nil {
				return nil, err
			}
			// The hash in the URL is a new address for new content: the
			// assets are cached for a day, and a stale copy would fail
			// the page's integrity check.
			sri := integrity(b)
			out[i] = asset{URL: path + "/assets/" + name + "?v=" + version(sri), Integrity: sri}
		}
		return out, nil
	}
	styles, err := load("graphiql.min.css", "graphiql-plugin-explorer.css", "playground.css")
	if err != nil {
		return nil, err
	}
	// In dependency order: React, then GraphiQL (which exports its React
	// hooks for plugins), the Explorer plugin, the graphql-ws client
	// (subscriptions), the page's script.
	scripts, err := load("react.production.min.js", "react-dom.production.min.js", "graphiql.min.js",
		"graphiql-plugin-explorer.umd.js", "graphql-ws.min.js", "playground.js")
	if err != nil {
		return nil, err
	}
	tabs, err := Tabs()
	if err != nil {
		return nil, err
	}
	// encoding/json escapes <, > and &, so no example can close the data
	// block it is written in.
	tabsJSON, err := json.Marshal(tabs)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := page.Execute(&b, map[string]any{
		"Title":    title,
		"Endpoint": endpoint,
		"Styles":   styles,
		"Scripts":  scripts,
		"Tabs":     template.JS(tabsJSON),
	}); err != nil {
		return nil, err
	}
	sub, err := fs.Sub(assets, "assets")
	if err != nil {
		return nil, err
	}
	return &Handler{
		path: path,
		page: b.Bytes(),
		// GraphiQL sets styles inline (editor sizes, the Explorer's
		// colors): style-src needs 'unsafe-inline'; scripts never do.
		csp: "default-src 'none'; script-src 'self'" +
			"; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'" +
			"; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
		assets: http.StripPrefix(path+"/assets/", http.FileServerFS(sub)),
	}, nil
}

// CSP is the page's Content-Security-Policy.
func (h *Handler) CSP() string { return h.csp }

// ServeHTTP serves the page and its assets.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, h.path+"/assets/") {
		w.Header().Set("Cache-Control", "public, max-age=86400")
		h.assets.ServeHTTP(w, r)
		return
	}
	w.Header().Set("Content-Security-Policy", h.csp)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write(h.page)
}

// version is a short, URL-safe digest of an asset, from its SRI hash.
func version(sri string) string {
	v := strings.NewReplacer("+", "-", "/", "_", "=", "").Replace(strings.TrimPrefix(sri, "sha256-"))
	return v[:12]
}

func integrity(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256-" + base64.StdEncoding.EncodeToString(sum[:])
}
