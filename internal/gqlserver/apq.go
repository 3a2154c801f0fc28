package gqlserver

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/banpro/factoring/internal/apperror"
)

// persistedQueryCacheSize bounds the automatic persisted queries the
// server remembers (documents by their SHA-256); the least recently used
// goes first. A client whose hash was forgotten sends the full query once
// more, as the protocol expects.
const persistedQueryCacheSize = 1000

// persistedQueries is automatic persisted queries (APQ, Apollo's protocol,
// over GET and POST alike): a client sends only the SHA-256 of its query in
// extensions.persistedQuery; the server answers an unknown hash with
// PERSISTED_QUERY_NOT_FOUND (message "PersistedQueryNotFound", what
// Apollo's link looks for), and the client then sends the query with its
// hash, which the server checks and remembers. gqlgen's extension does the
// protocol; this wrapper gives its errors the API's codes and Spanish, and
// the status a client library expects.
//
// It runs before every other check, so a query sent by hash meets the same
// limits as one sent in full.
//
// With a list of trusted documents the server learns nothing: it runs the
// listed operations only, sent by hash or in full, and refuses any other
// with PERSISTED_QUERY_NOT_IN_LIST.
type persistedQueries struct {
	apq     extension.AutomaticPersistedQuery
	trusted TrustedDocuments
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationParameterMutator
} = persistedQueries{}

func newPersistedQueries(size int, trusted TrustedDocuments) persistedQueries {
	return persistedQueries{apq: extension.AutomaticPersistedQuery{Cache: lru.New[string](size)}, trusted: trusted}
}

func (persistedQueries) ExtensionName() string { return "PersistedQueries" }

func (p persistedQueries) Validate(s graphql.ExecutableSchema) error { return p.apq.Validate(s) }

func (p persistedQueries) MutateOperationParameters(ctx context.Context, params *graphql.RawParams) *gqlerror.Error {
	if p.trusted != nil {
		return p.onlyTrusted(params)
	}
	err := p.apq.MutateOperationParameters(ctx, params)
	if err == nil {
		return nil
	}
	if code, _ := err.Extensions["code"].(string); code == string(apperror.PersistedQueryNotFound) {
		return requestError(apperror.New(apperror.PersistedQueryNotFound), nil)
	}
	switch err.Message {
	case "provided APQ hash does not match query":
		return requestError(apperror.Invalid("persistedQuery",
			"extensions.persistedQuery.sha256Hash no es el SHA-256 (hexadecimal) de la consulta enviada."), nil)
	case "unsupported APQ version":
		return requestError(apperror.Invalid("persistedQuery",
			"Solo se admite extensions.persistedQuery.version 1."), nil)
	}
	return requestError(apperror.Invalid("persistedQuery",
		`extensions.persistedQuery debe ser {"version": 1, "sha256Hash": "<SHA-256 de la consulta>"}.`), nil)
}

// onlyTrusted runs the operation the request names, by hash or in full, if
// it is in the list of trusted documents.
func (p persistedQueries) onlyTrusted(params *graphql.RawParams) *gqlerror.Error {
	var hash string
	if ext, ok := params.Extensions["persistedQuery"]; ok {
		pq, _ := ext.(map[string]any)
		hash, _ = pq["sha256Hash"].(string)
		if hash == "" {
			return requestError(apperror.Invalid("persistedQuery",
				`extensions.persistedQuery debe ser {"version": 1, "sha256Hash": "<SHA-256 de la consulta>"}.`), nil)
		}
	}
	if params.Query == "" {
		doc, ok := p.trusted[hash]
		if !ok {
			return requestError(notInList("Este servidor solo ejecuta operaciones de su lista de confianza: "+
				"el hash de extensions.persistedQuery.sha256Hash no está en ella."), nil)
		}
		params.Query = doc
		return nil
	}
	sum := sha256Of(params.Query)
	if hash != "" && hash != sum {
		return requestError(apperror.Invalid("persistedQuery",
			"extensions.persistedQuery.sha256Hash no es el SHA-256 (hexadecimal) de la consulta enviada."), nil)
	}
	if _, ok := p.trusted[sum]; !ok {
		return requestError(notInList("Este servidor solo ejecuta operaciones de su lista de confianza, "+
			"y esta consulta no está en ella (el texto debe ser idéntico, byte a byte)."), nil)
	}
	return nil
}
