package despacho_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banpro/factoring/ent/entrega"
	"github.com/banpro/factoring/internal/despacho"
	"github.com/banpro/factoring/internal/eventos"
	"github.com/banpro/factoring/internal/natspub"
	"github.com/banpro/factoring/internal/natspub/natstest"
	"github.com/banpro/factoring/internal/testkit"
)

// TestNATSCaido: with NATS down, events wait in the outbox (their NATS
// deliveries stay PENDIENTE, retried); when it is back they all go out,
// once each in the stream, in order per subject.
func TestNATSCaido(t *testing.T) {
	srv := natstest.Privado(t)
	db := testkit.SQLite(t)
	stream, prefijo := natstest.Nombre("FACTORING_TEST_"), natstest.Nombre("factoringtest")
	pub, err := natspub.Conectar(srv.URL(), natspub.Opciones{Stream: stream, Prefijo: prefijo, Timeout: 500 * time.Millisecond})
	require.NoError(t, err)
	t.Cleanup(pub.Close)
	correr(t, nuevo(t, db, func(o *despacho.Opciones) {
		o.Canales = map[entrega.Canal]despacho.Canal{entrega.CanalNATS: &despacho.CanalNATS{Pub: pub}}
	}))
	entregadas := func() int { return contarEntregas(t, db, entrega.EstadoENTREGADA) }

	for s := range 2 {
		encolar(t, db, fmt.Sprintf("op-%d", s), 0, 5)
	}
	esperar(t, 20*time.Second, "10 publicados", func() bool { return entregadas() == 10 })

	srv.Stop()
	for s := range 2 {
		encolar(t, db, fmt.Sprintf("op-%d", s), 5, 5)
	}
	esperar(t, 20*time.Second, "reintentos durante la caída", func() bool {
		n, _ := db.Client.Entrega.Query().Where(entrega.EstadoEQ(entrega.EstadoPENDIENTE), entrega.IntentoGTE(2)).Count(ctx)
		return n > 0
	})
	assert.Equal(t, 10, entregadas(), "nothing new goes out while NATS is down")
	assert.Zero(t, contarEntregas(t, db, entrega.EstadoFALLIDA), "NATS deliveries never give up")
	fallidos := 0
	for _, e := range db.Client.Entrega.Query().Where(entrega.EstadoEQ(entrega.EstadoPENDIENTE)).AllX(ctx) {
		fallidos += e.Intento
	}

	srv.Start()
	esperar(t, 60*time.Second, "los 20 publicados tras volver NATS", func() bool { return entregadas() == 20 })
	t.Logf("NATS caído: %d intentos fallidos en espera; al volver, 20/20 eventos publicados", fallidos)

	nc, err := nats.Connect(srv.URL())
	require.NoError(t, err)
	defer nc.Close()
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	cctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	s, err := js.Stream(cctx, stream)
	require.NoError(t, err)
	info, err := s.Info(cctx)
	require.NoError(t, err)
	assert.Equal(t, uint64(20), info.State.Msgs, "each event once in the stream")
	cons, err := s.OrderedConsumer(cctx, jetstream.OrderedConsumerConfig{})
	require.NoError(t, err)
	batch, err := cons.Fetch(20, jetstream.FetchMaxWait(5*time.Second))
	require.NoError(t, err)
	porSujeto := map[string][]int{}
	for m := range batch.Messages() {
		var sobre eventos.Sobre
		require.NoError(t, json.Unmarshal(m.Data(), &sobre))
		assert.Equal(t, prefijo+"."+string(sobre.Type), m.Subject())
		assert.Equal(t, sobre.ID, m.Headers().Get(jetstream.MsgIDHeader))
		var d struct{ N int }
		require.NoError(t, json.Unmarshal(sobre.Data, &d))
		porSujeto[sobre.Subject] = append(porSujeto[sobre.Subject], d.N)
	}
	want := []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}
	assert.Equal(t, map[string][]int{"op-0": want, "op-1": want}, porSujeto)
}
