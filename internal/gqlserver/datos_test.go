package gqlserver_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/banpro/factoring/internal/gid"
	"github.com/banpro/factoring/internal/testkit"
)

// Ensure that a response has a data key exactly when execution started:
// null where a non-null field failed, absent when the request was refused
// before (GraphQL over HTTP).
func TestDataSoloSiHuboEjecucion(t *testing.T) {
	db := testkit.SQLite(t)
	c := servir(t, db, nil)
	res := c.Do(`mutation { activarCliente(id: "`+gid.Encode(424242)+`") { estado } }`, nil)
	testkit.RequireGQLError(t, res, "NOT_FOUND")
	assert.Contains(t, res.Raw, `"data":null`, "execution started: data stays, null")

	res = c.Do(`{ cliente(id: "`+gid.Encode(424242)+`") { id } }`, nil)
	assert.JSONEq(t, `{"cliente": null}`, string(res.Data), res.Raw)

	for _, q := range []string{`{ clientes { nada } }`, `{ clientes(`, `{ clientes(first: 1000) { totalCount } }`} {
		testkit.RequireNoDataKey(t, c.Do(q, nil))
	}
}
