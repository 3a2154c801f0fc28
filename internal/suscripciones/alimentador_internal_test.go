package suscripciones

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Ensure that the feed reads each outbox id once, whatever order the ids
// commit in: an id skipped over (its transaction had not committed) is
// remembered as a hueco and read when it shows up, and a row read again
// (a read that spans several huecos) is left out.
func TestMarcarHuecos(t *testing.T) {
	now := time.Now()
	a := &alimentador{h: New(nil, Config{})}
	a.visto = 100

	require.True(t, a.marcar(101, now))
	require.True(t, a.marcar(105, now), "102..104 not committed yet")
	assert.Equal(t, []hueco{{102, 104, now}}, a.huecos)
	assert.Equal(t, 105, a.visto)

	assert.False(t, a.marcar(101, now), "read before")
	assert.False(t, a.marcar(105, now), "read before")
	require.True(t, a.marcar(103, now), "the middle of a hueco splits it")
	assert.Equal(t, []hueco{{102, 102, now}, {104, 104, now}}, a.huecos)
	assert.False(t, a.marcar(103, now), "once")

	require.True(t, a.marcar(110, now))
	assert.Equal(t, []hueco{{102, 102, now}, {104, 104, now}, {106, 109, now}}, a.huecos)
	require.True(t, a.marcar(106, now), "a hueco's first id")
	require.True(t, a.marcar(109, now), "a hueco's last id")
	require.True(t, a.marcar(102, now), "a hueco of one id")
	assert.Equal(t, []hueco{{104, 104, now}, {107, 108, now}}, a.huecos)
}

// Ensure that a hueco is looked for only for Rezagados: a transaction that
// took the id rolled back.
func TestExpirarHuecos(t *testing.T) {
	now := time.Now()
	a := &alimentador{h: New(nil, Config{Rezagados: time.Minute})}
	a.visto = 10
	a.marcar(12, now.Add(-2*time.Minute))
	a.marcar(14, now)
	a.expirar(now)
	assert.Equal(t, []hueco{{13, 13, now}}, a.huecos)
}

// Ensure that the first rows of a new table leave no hueco below them: no
// id below them belongs to the table.
func TestSinHuecoBajoElPrimero(t *testing.T) {
	a := &alimentador{h: New(nil, Config{})}
	require.True(t, a.marcar(500, time.Now()))
	assert.Empty(t, a.huecos)
}

// Ensure that the read asks for the rows above the watermark and those of
// each hueco, and past maxHuecos for everything from the lowest one.
func TestPendientes(t *testing.T) {
	now := time.Now()
	a := &alimentador{h: New(nil, Config{})}
	a.visto = 1
	for i := 0; i <= maxHuecos; i++ {
		a.marcar(a.visto+2, now)
	}
	require.Len(t, a.huecos, maxHuecos+1)
	assert.NotNil(t, a.pendientes())
	assert.False(t, a.marcar(a.huecos[0].desde-1, now), "not a hueco: read already")
	assert.True(t, a.marcar(a.huecos[0].desde, now))
}

// Ensure that the filter keeps what it names: tipos, the cliente of the
// data, the operación of the data; all of them together.
func TestFiltroAcepta(t *testing.T) {
	e := &Evento{Tipo: "operacion.aprobada", clienteID: "C1", operacionID: "O1"}
	for _, tc := range []struct {
		name string
		f    filtro
		want bool
	}{
		{"sin_filtro", filtro{}, true},
		{"tipo_incluido", filtro{tipos: map[string]bool{"operacion.aprobada": true}}, true},
		{"tipo_excluido", filtro{tipos: map[string]bool{"cliente.creado": true}}, false},
		{"su_cliente", filtro{clienteID: "C1"}, true},
		{"otro_cliente", filtro{clienteID: "C2"}, false},
		{"su_operacion", filtro{operacionID: "O1"}, true},
		{"otra_operacion", filtro{operacionID: "O2"}, false},
		{"todo_a_la_vez", filtro{tipos: map[string]bool{"operacion.aprobada": true}, clienteID: "C1", operacionID: "O1"}, true},
		{"uno_que_no", filtro{tipos: map[string]bool{"operacion.aprobada": true}, clienteID: "C1", operacionID: "O2"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) { assert.Equal(t, tc.want, tc.f.acepta(e)) })
	}
}
