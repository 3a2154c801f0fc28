// Package mediatype negotiates the media type of the API's JSON answers, as
// GraphQL over HTTP asks: application/graphql-response+json for a client
// that accepts it, application/json otherwise. The GraphQL endpoint
// (internal/gqlserver) and the HTTP shell (internal/httpserver, for the
// errors it answers itself: 401, 404, 413) negotiate the same way, so a
// GraphQL client library reads every error of the API alike.
package mediatype

import (
	"mime"
	"strings"
)

const (
	// JSON is application/json, what clients that ask for nothing else get.
	JSON = "application/json"
	// GraphQLResponse is GraphQL over HTTP's own media type.
	GraphQLResponse = "application/graphql-response+json"
)

// Negotiate returns the media type to answer a request whose Accept header
// is accept: the first of GraphQLResponse and JSON (or a wildcard that
// covers it) that the header lists, JSON when it lists neither.
func Negotiate(accept string) string {
	for part := range strings.SplitSeq(accept, ",") {
		mediaType, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		switch mediaType {
		case GraphQLResponse:
			return GraphQLResponse
		case JSON, "*/*", "application/*":
			return JSON
		}
	}
	return JSON
}

// EventStream is text/event-stream: GraphQL over Server-Sent Events.
const EventStream = "text/event-stream"

// AcceptsEventStream reports whether an Accept header lists
// text/event-stream: the client asks for a subscription's events over SSE.
func AcceptsEventStream(accept string) bool {
	for part := range strings.SplitSeq(accept, ",") {
		if mediaType, _, err := mime.ParseMediaType(strings.TrimSpace(part)); err == nil && mediaType == EventStream {
			return true
		}
	}
	return false
}

// WebSocketUpgrade reports whether a request's Connection and Upgrade
// headers ask to switch to the WebSocket protocol.
func WebSocketUpgrade(connection, upgrade string) bool {
	if !strings.EqualFold(strings.TrimSpace(upgrade), "websocket") {
		return false
	}
	for token := range strings.SplitSeq(connection, ",") {
		if strings.EqualFold(strings.TrimSpace(token), "upgrade") {
			return true
		}
	}
	return false
}
