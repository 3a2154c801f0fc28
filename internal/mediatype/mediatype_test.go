package mediatype_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/banpro/factoring/internal/mediatype"
)

func TestNegotiate(t *testing.T) {
	for accept, want := range map[string]string{
		"":                                  mediatype.JSON,
		"application/json":                  mediatype.JSON,
		"*/*":                               mediatype.JSON,
		"text/html, */*":                    mediatype.JSON,
		"text/html":                         mediatype.JSON,
		"application/graphql-response+json": mediatype.GraphQLResponse,
		"application/graphql-response+json, application/json;q=0.9": mediatype.GraphQLResponse,
		// Apollo Client's header.
		"application/graphql-response+json,application/json;q=0.9":          mediatype.GraphQLResponse,
		"application/json, application/graphql-response+json":               mediatype.JSON,
		"text/html;q=0.8, application/graphql-response+json; charset=utf-8": mediatype.GraphQLResponse,
		"not a media type, application/graphql-response+json":               mediatype.GraphQLResponse,
	} {
		assert.Equal(t, want, mediatype.Negotiate(accept), "Accept: %q", accept)
	}
}

func TestAcceptsEventStream(t *testing.T) {
	for accept, want := range map[string]bool{
		"text/event-stream":                   true,
		"application/json, text/event-stream": true,
		"text/event-stream; charset=utf-8":    true,
		"":                                    false,
		"*/*":                                 false, // a wildcard is no request for a stream
		"application/json":                    false,
		"text/event-streams":                  false,
	} {
		assert.Equal(t, want, mediatype.AcceptsEventStream(accept), "Accept: %q", accept)
	}
}

func TestWebSocketUpgrade(t *testing.T) {
	assert.True(t, mediatype.WebSocketUpgrade("Upgrade", "websocket"))
	assert.True(t, mediatype.WebSocketUpgrade("keep-alive, Upgrade", "WebSocket"), "Firefox's Connection header")
	assert.False(t, mediatype.WebSocketUpgrade("keep-alive", "websocket"))
	assert.False(t, mediatype.WebSocketUpgrade("Upgrade", "h2c"))
	assert.False(t, mediatype.WebSocketUpgrade("", ""))
}
