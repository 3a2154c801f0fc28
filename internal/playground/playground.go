// Package playground serves GraphiQL, the API's interactive IDE, from assets
// embedded in the binary: GraphiQL 4.1.2 and React 18.2.0 from npm, the very
// files (same SRI hashes) that gqlgen's playground would load from a CDN. The
// page so works offline and loads no third-party script, and its
// Content-Security-Policy allows scripts from this origin plus the page's one
// inline script, by hash.
package playground

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"fmt"
	"io/fs"
	"net/http"
	"regexp"
	"strings"

	gqlplayground "github.com/99designs/gqlgen/graphql/playground"
)

//go:embed assets/*.js assets/*.css
var assets embed.FS

// Handler serves the page at its path and its assets under path + "/assets/".
type Handler struct {
	path   string
	page   []byte
	csp    string
	assets http.Handler
}

// New builds the playground served at path (e.g. "/playground") for the
// GraphQL endpoint (e.g. "/graphql").
func New(title, path, endpoint string) (*Handler, error) {
	asset := func(name string) (url, sri string, err error) {
		b, err := assets.ReadFile("assets/" + name)
		if err != nil {
			return "", "", err
		}
		return path + "/assets/" + name, integrity(b), nil
	}
	js, jsSRI, err := asset("graphiql.min.js")
	if err != nil {
		return nil, err
	}
	css, cssSRI, err := asset("graphiql.min.css")
	if err != nil {
		return nil, err
	}
	react, reactSRI, err := asset("react.production.min.js")
	if err != nil {
		return nil, err
	}
	reactDOM, reactDOMSRI, err := asset("react-dom.production.min.js")
	if err != nil {
		return nil, err
	}
	render := gqlplayground.Handler(title, endpoint,
		gqlplayground.WithGraphiqlVersion(js, css, jsSRI, cssSRI),
		gqlplayground.WithGraphiqlReactVersion(react, reactDOM, reactSRI, reactDOMSRI),
	)
	var page bufferWriter
	render(&page, &http.Request{})
	scripts := inlineScriptHashes(page.body.Bytes())
	if len(scripts) == 0 {
		return nil, fmt.Errorf("playground: la página no tiene el script en línea esperado")
	}
	sub, err := fs.Sub(assets, "assets")
	if err != nil {
		return nil, err
	}
	return &Handler{
		path: path,
		page: page.body.Bytes(),
		csp: "default-src 'none'; script-src 'self' " + strings.Join(scripts, " ") +
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

func integrity(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256-" + base64.StdEncoding.EncodeToString(sum[:])
}

var inlineScript = regexp.MustCompile(`(?s)<script>(.*?)</script>`)

// inlineScriptHashes lists the CSP hash source of every inline script.
func inlineScriptHashes(page []byte) []string {
	var out []string
	for _, m := range inlineScript.FindAllSubmatch(page, -1) {
		out = append(out, "'"+integrity(m[1])+"'")
	}
	return out
}

// bufferWriter captures the page gqlgen's handler renders.
type bufferWriter struct {
	header http.Header
	body   bytes.Buffer
}

func (b *bufferWriter) Header() http.Header {
	if b.header == nil {
		b.header = http.Header{}
	}
	return b.header
}
func (b *bufferWriter) Write(p []byte) (int, error) { return b.body.Write(p) }
func (b *bufferWriter) WriteHeader(int)             {}
