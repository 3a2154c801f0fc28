package gqlserver

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banpro/factoring/ent"
	"github.com/banpro/factoring/internal/apperror"
)

// Ensure that the shape check of cursors accepts what entgql encodes (an
// id and a scalar value of every kind an order field has) and refuses any
// list or map inside, trailing bytes, a cut cursor and more entries.
func TestFormaDelCursor(t *testing.T) {
	encode := func(c ent.Cursor) string {
		var b strings.Builder
		c.MarshalGQL(&b)
		return strings.Trim(b.String(), `"`)
	}
	for name, v := range map[string]any{
		"sin_valor": nil,
		"texto":     strings.Repeat("𝄞", 255),
		"entero":    int64(-7),
		"decimal":   decimal.RequireFromString("1234567890123.45"),
		"instante":  time.Date(2026, 11, 26, 12, 0, 0, 123456000, time.UTC),
		"estado":    "ACTIVO",
	} {
		t.Run(name, func(t *testing.T) {
			assert.Empty(t, checkCursor(encode(ent.Cursor{ID: 1 << 40, Value: v})))
		})
	}
	for name, raw := range map[string][]byte{
		"lista":           {0x82, 0xa1, 'i', 0x01, 0xa1, 'v', 0x91, 0x01},
		"mapa":            {0x82, 0xa1, 'i', 0x01, 0xa1, 'v', 0x81, 0xa1, 'x', 0x01},
		"id_lista":        {0x81, 0xa1, 'i', 0x91, 0x01},
		"sobra":           {0x81, 0xa1, 'i', 0x01, 0x01},
		"cortado":         {0x82, 0xa1, 'i', 0x01, 0xa1, 'v', 0xd9, 0x10, 'a'},
		"tres_entradas":   {0x83, 0xa1, 'i', 0x01, 0xa1, 'v', 0x01, 0xa1, 'w', 0x01},
		"no_es_mapa":      {0x91, 0x01},
		"clave_no_texto":  {0x81, 0x01, 0x01},
		"largo_imposible": {0x81, 0xa1, 'v', 0xdb, 0xff, 0xff, 0xff, 0xff},
	} {
		t.Run(name, func(t *testing.T) {
			assert.False(t, flatCursor(raw))
		})
	}
}

// Ensure that the input walkers stop when the request's deadline passed,
// whatever the input: they read the context as they go.
func TestLosRecorridosLeenElPlazo(t *testing.T) {
	expired, cancel := context.WithDeadline(context.Background(), time.Unix(0, 0))
	defer cancel()
	ids := make([]any, 2000)
	for i := range ids {
		ids[i] = "x"
	}
	vars := map[string]any{"ids": ids}

	g := &inputGuard{maxTokens: 100}
	require.Nil(t, g.MutateOperationParameters(context.Background(), &graphql.RawParams{Variables: vars}))
	err := g.MutateOperationParameters(expired, &graphql.RawParams{Variables: vars})
	require.NotNil(t, err)
	appErr, ok := apperror.As(err)
	require.True(t, ok)
	assert.Equal(t, apperror.Timeout, appErr.Code)
}
