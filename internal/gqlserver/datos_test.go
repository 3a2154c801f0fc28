package gqlserver_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banpro/factoring/internal/gid"
	"github.com/banpro/factoring/internal/gqltest"
	"github.com/banpro/factoring/internal/testdb"
)

// sinDataKey requires that the response has no data key: it was refused
// before anything executed.
func sinDataKey(t *testing.T, res gqltest.Response) {
	t.Helper()
	var keys map[string]json.RawMessage
	require.NoError(t, json.Unmarshal([]byte(res.Raw), &keys), res.Raw)
	assert.NotContains(t, keys, "data", "a request refused before execution has no data key: %s", res.Raw)
}

// Ensure that a response has a data key exactly when execution started:
// null where a non-null field failed, absent when the request was refused
// before (GraphQL over HTTP).
func TestDataSoloSiHuboEjecucion(t *testing.T) {
	db := testdb.SQLite(t)
	c := servir(t, db, nil)
	res := c.Do(`mutation { activarCliente(id: "`+gid.Encode(424242)+`") { estado } }`, nil)
	requireError(t, res, "NOT_FOUND")
	assert.Contains(t, res.Raw, `"data":null`, "execution started: data stays, null")

	res = c.Do(`{ cliente(id: "`+gid.Encode(424242)+`") { id } }`, nil)
	assert.JSONEq(t, `{"cliente": null}`, string(res.Data), res.Raw)

	for _, q := range []string{`{ clientes { nada } }`, `{ clientes(`, `{ clientes(first: 1000) { totalCount } }`} {
		sinDataKey(t, c.Do(q, nil))
	}
}
