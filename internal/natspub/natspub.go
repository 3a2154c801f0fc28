// Package natspub publishes the integration events to NATS JetStream
// (FACTORING_NATS_URL): stream FACTORING, created if missing over the
// subjects factoring.>, each event on factoring.<type> with Nats-Msg-Id set
// to the event id, so JetStream drops a redelivered copy within the
// stream's duplicate window.
//
// A publish that gets no acknowledgement is an error: the dispatcher keeps
// the event and tries again, whatever the outage. Nothing is buffered in
// the client while disconnected (a buffered message could reach the server
// long after the dispatcher gave up on it).
package natspub

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Defaults of the stream.
const (
	DefaultStream  = "FACTORING"
	DefaultPrefijo = "factoring"
	// Ventana is the stream's duplicate window: a copy with the same
	// Nats-Msg-Id within it is dropped.
	Ventana = 2 * time.Minute
)

// Publicador publishes to one stream.
type Publicador struct {
	nc      *nats.Conn
	js      jetstream.JetStream
	stream  string
	prefijo string

	mu      sync.Mutex
	creado  bool
	timeout time.Duration
}

// Opciones tune Conectar.
type Opciones struct {
	Stream  string // default FACTORING
	Prefijo string // subject prefix, default factoring
	// Timeout of one publish, acknowledgement included; 0 means 5 s.
	Timeout time.Duration
	// Nombre names the connection in the server's monitoring.
	Nombre string
}

// Conectar connects to url. A server that is down is not an error: the
// client keeps reconnecting in the background and every publish fails
// until it is back.
func Conectar(url string, o Opciones) (*Publicador, error) {
	if o.Stream == "" {
		o.Stream = DefaultStream
	}
	if o.Prefijo == "" {
		o.Prefijo = DefaultPrefijo
	}
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Second
	}
	if o.Nombre == "" {
		o.Nombre = "factoring"
	}
	nc, err := nats.Connect(url,
		nats.Name(o.Nombre),
		nats.RetryOnFailedConnect(true),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(time.Second),
		nats.ReconnectBufSize(-1),
	)
	if err != nil {
		return nil, fmt.Errorf("NATS %s: %w", url, err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("NATS JetStream: %w", err)
	}
	return &Publicador{nc: nc, js: js, stream: o.Stream, prefijo: o.Prefijo, timeout: o.Timeout}, nil
}

// Close closes the connection.
func (p *Publicador) Close() { p.nc.Close() }

// Subject is the subject of events of tipo.
func (p *Publicador) Subject(tipo string) string { return p.prefijo + "." + tipo }

// AsegurarStream creates the stream when it does not exist. An existing
// stream is left as it is (an operator may have tuned its limits).
func (p *Publicador) AsegurarStream(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.creado {
		return nil
	}
	_, err := p.js.Stream(ctx, p.stream)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		_, err = p.js.CreateStream(ctx, jetstream.StreamConfig{
			Name:        p.stream,
			Description: "Eventos de integración de factoring",
			Subjects:    []string{p.prefijo + ".>"},
			Storage:     jetstream.FileStorage,
			Duplicates:  Ventana,
		})
		if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) { // another replica won the race
			err = nil
		}
	}
	if err != nil {
		return fmt.Errorf("NATS: stream %s: %w", p.stream, err)
	}
	p.creado = true
	return nil
}

// Publicar publishes one event's body on <prefix>.<tipo> with Nats-Msg-Id
// id and waits for JetStream's acknowledgement. It reports whether the
// server dropped it as a duplicate.
func (p *Publicador) Publicar(ctx context.Context, tipo, id string, cuerpo []byte) (duplicado bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	if err := p.AsegurarStream(ctx); err != nil {
		return false, err
	}
	msg := &nats.Msg{Subject: p.Subject(tipo), Data: cuerpo, Header: nats.Header{}}
	msg.Header.Set("Content-Type", "application/cloudevents+json")
	ack, err := p.js.PublishMsg(ctx, msg, jetstream.WithMsgID(id), jetstream.WithExpectStream(p.stream))
	if err != nil {
		if errors.Is(err, jetstream.ErrNoStreamResponse) {
			p.mu.Lock()
			p.creado = false // deleted under us: create it again next time
			p.mu.Unlock()
		}
		return false, fmt.Errorf("NATS: publicar %s: %w", msg.Subject, err)
	}
	return ack.Duplicate, nil
}
