package gqlserver_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banpro/factoring/graph"
	"github.com/banpro/factoring/internal/app"
	"github.com/banpro/factoring/internal/apperror"
	"github.com/banpro/factoring/internal/clock"
	"github.com/banpro/factoring/internal/gqlserver"
	"github.com/banpro/factoring/internal/testkit"
)

// writeTrusted writes a list of trusted documents and returns its path.
func writeTrusted(t *testing.T, docs map[string]string) string {
	t.Helper()
	b, err := json.Marshal(docs)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "documentos.json")
	require.NoError(t, os.WriteFile(path, b, 0o600))
	return path
}

// Ensure that with FACTORING_TRUSTED_DOCUMENTS the server runs the listed
// operations only, by hash (POST or GET) or in full, and refuses any other
// with PERSISTED_QUERY_NOT_IN_LIST before anything runs; the playground's
// introspection included.
func TestDocumentosDeConfianza(t *testing.T) {
	db := testkit.SQLite(t)
	fx := testkit.NewFixture(t, db.Client)
	fx.Cliente()
	const total = `query Total { clientes { totalCount } }`
	const porID = `query Cliente($id: ID!) { cliente(id: $id) { id } }`
	cfg := testkit.Config(t)
	cfg.TrustedDocuments = writeTrusted(t, map[string]string{sha(total): total, sha(porID): porID})
	c, _ := testkit.Serve(t, db, testkit.ServeOptions{Config: &cfg})

	t.Run("la_lista_corre", func(t *testing.T) {
		for name, res := range map[string]testkit.Response{
			"completa":      c.Do(total, nil),
			"completa_hash": postAPQ(t, c, total, persisted(sha(total), 1), nil),
			"hash_post":     postAPQ(t, c, "", persisted(sha(total), 1), nil),
			"hash_get":      getAPQ(t, c, persisted(sha(total), 1), nil),
		} {
			require.Empty(t, res.Errors, "%s: %s", name, res.Raw)
			assert.JSONEq(t, `{"clientes":{"totalCount":1}}`, string(res.Data), name)
		}
	})
	t.Run("nada_mas", func(t *testing.T) {
		for name, do := range map[string]func() testkit.Response{
			"otra_consulta":            func() testkit.Response { return c.Do(`{ clientes { totalCount } }`, nil) },
			"un_espacio_de_diferencia": func() testkit.Response { return c.Do(total+" ", nil) },
			"hash_desconocido":         func() testkit.Response { return postAPQ(t, c, "", persisted(sha("x"), 1), nil) },
			"registrar_por_apq": func() testkit.Response {
				q := `{ clientes { edges { node { id } } } }`
				return postAPQ(t, c, q, persisted(sha(q), 1), nil)
			},
			"introspeccion": func() testkit.Response { return c.Do(`{ __schema { queryType { name } } }`, nil) },
		} {
			t.Run(name, func(t *testing.T) {
				res := testkit.RequireNoSQL(t, db, do)
				testkit.RequireGQLError(t, res, apperror.PersistedQueryNotInList)
				assert.Equal(t, http.StatusForbidden, res.Status)
				testkit.RequireNullData(t, res)
			})
		}
	})
	t.Run("hash_que_no_es_el_de_la_consulta", func(t *testing.T) {
		res := postAPQ(t, c, total, persisted(sha(porID), 1), nil)
		testkit.RequireGQLError(t, res, apperror.Validation, "persistedQuery")
	})
}

// Ensure that a list of trusted documents that cannot be right stops the
// server at start, naming the variable and what is wrong.
func TestDocumentosDeConfianzaInvalidos(t *testing.T) {
	schema := graph.NewSchema(nil, graph.Services{})
	const q = `{ clientes { totalCount } }`
	cases := map[string]struct {
		content string
		want    string
	}{
		"no_es_json":         {`["{ clientes { totalCount } }"]`, "no es un objeto JSON"},
		"vacia":              {`{}`, "no tiene ninguna operación"},
		"hash_equivocado":    {`{"` + sha("otra") + `": "` + q + `"}`, "no es el SHA-256"},
		"hash_en_mayusculas": {`{"` + upper(sha(q)) + `": "` + q + `"}`, "no es el SHA-256"},
		"no_parsea":          {`{"` + sha("{ clientes {") + `": "{ clientes {"}`, "el documento"},
		"campo_inexistente":  {`{"` + sha("{ noExiste }") + `": "{ noExiste }"}`, "no es válido para el esquema"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "documentos.json")
			require.NoError(t, os.WriteFile(path, []byte(tc.content), 0o600))
			_, err := gqlserver.LoadTrustedDocuments(path, schema)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
	t.Run("el_servidor_no_arranca", func(t *testing.T) {
		db := testkit.SQLite(t)
		cfg := testkit.Config(t)
		cfg.TrustedDocuments = filepath.Join(t.TempDir(), "no-existe.json")
		_, err := app.NewServer(app.Options{DB: db, Config: cfg, Clock: clock.NewFixed(testkit.Hoy),
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		require.Error(t, err)
		assert.Contains(t, err.Error(), "FACTORING_TRUSTED_DOCUMENTS")
	})
}

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'f' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}
