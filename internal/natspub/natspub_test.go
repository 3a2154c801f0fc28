package natspub_test

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banpro/factoring/internal/natspub"
	"github.com/banpro/factoring/internal/natspub/natstest"
)

// TestPublicarConsumirDeduplicar publishes to the real JetStream: the
// stream is created when missing, each event lands on <prefix>.<type>
// with Nats-Msg-Id, a second publish of one id is dropped as a duplicate,
// and a consumer reads each event once, in order.
func TestPublicarConsumirDeduplicar(t *testing.T) {
	url := natstest.URL(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	stream, prefijo := natstest.Nombre("FACTORING_TEST_"), natstest.Nombre("factoringtest")
	p, err := natspub.Conectar(url, natspub.Opciones{Stream: stream, Prefijo: prefijo})
	require.NoError(t, err)
	defer p.Close()
	nc, err := nats.Connect(url)
	require.NoError(t, err)
	defer nc.Close()
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	t.Cleanup(func() { _ = js.DeleteStream(context.Background(), stream) })

	evs := []struct{ tipo, id, body string }{
		{"operacion.aprobada", "ev-1", `{"n":1}`},
		{"operacion.desembolsada", "ev-2", `{"n":2}`},
		{"cliente.creado", "ev-3", `{"n":3}`},
	}
	for _, e := range evs {
		dup, err := p.Publicar(ctx, e.tipo, e.id, []byte(e.body))
		require.NoError(t, err)
		assert.False(t, dup)
	}
	dup, err := p.Publicar(ctx, evs[0].tipo, evs[0].id, []byte(evs[0].body))
	require.NoError(t, err)
	assert.True(t, dup, "same Nats-Msg-Id within the window")

	s, err := js.Stream(ctx, stream)
	require.NoError(t, err)
	info, err := s.Info(ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{prefijo + ".>"}, info.Config.Subjects)
	assert.Equal(t, uint64(3), info.State.Msgs)

	cons, err := s.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
	require.NoError(t, err)
	batch, err := cons.Fetch(3, jetstream.FetchMaxWait(5*time.Second))
	require.NoError(t, err)
	var got []jetstream.Msg
	for m := range batch.Messages() {
		got = append(got, m)
	}
	require.Len(t, got, 3)
	for i, m := range got {
		assert.Equal(t, prefijo+"."+evs[i].tipo, m.Subject())
		assert.Equal(t, evs[i].id, m.Headers().Get(jetstream.MsgIDHeader))
		assert.JSONEq(t, evs[i].body, string(m.Data()))
	}
}
