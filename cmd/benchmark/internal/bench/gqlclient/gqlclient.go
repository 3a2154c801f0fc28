// Package gqlclient is the benchmark's GraphQL-over-HTTP client: POST
// /graphql with a pre-encoded body and a bearer token over keep-alive
// connections, reading as little of the answer as it can (it decodes the
// body only when asked for data or when the body carries "errors"), so the
// load generator takes as little CPU from the server as possible.
package gqlclient

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

// Client posts GraphQL requests to one endpoint.
type Client struct {
	url  string
	http *http.Client
}

// New returns a client for the GraphQL endpoint url that keeps up to conns
// idle connections (at least the number of concurrent workers).
func New(url string, conns int) *Client {
	tr := &http.Transport{
		MaxIdleConns:        conns * 2,
		MaxIdleConnsPerHost: conns * 2,
		IdleConnTimeout:     time.Minute,
		DisableCompression:  true,
	}
	return &Client{url: url, http: &http.Client{Transport: tr, Timeout: time.Minute}}
}

// Close drops the idle connections.
func (c *Client) Close() { c.http.CloseIdleConnections() }

// Body encodes a GraphQL request body once, to send many times.
func Body(query string, variables map[string]any) []byte {
	b, err := json.Marshal(map[string]any{"query": query, "variables": variables})
	if err != nil {
		panic(fmt.Sprintf("gqlclient: %v", err)) // only for values that cannot be JSON
	}
	return b
}

// Error is a failed request: a non-200 status or the first GraphQL error
// of the response.
type Error struct {
	Status  int
	Message string
	Code    string            // extensions.code
	Fields  map[string]string // extensions.fields
	Count   int               // errors in the response
}

func (e *Error) Error() string {
	s := fmt.Sprintf("HTTP %d", e.Status)
	if e.Code != "" {
		s += " " + e.Code
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	if len(e.Fields) > 0 {
		s += fmt.Sprintf(" %v", e.Fields)
	}
	return s
}

type gqlError struct {
	Message    string `json:"message"`
	Extensions struct {
		Code   string            `json:"code"`
		Fields map[string]string `json:"fields"`
	} `json:"extensions"`
}

type response struct {
	Data   json.RawMessage `json:"data"`
	Errors []gqlError      `json:"errors"`
}

var buffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// Post sends body with the bearer token (none when token is empty). When
// data is not nil the response's data is decoded into it. It returns an
// *Error for a non-200 status or a response with errors.
func (c *Client) Post(ctx context.Context, token string, body []byte, data any) error {
	return c.PostKeyed(ctx, token, "", body, data)
}

// PostKeyed is Post with an Idempotency-Key (none when key is empty).
func (c *Client) PostKeyed(ctx context.Context, token, key string, body []byte, data any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	buf := buffers.Get().(*bytes.Buffer)
	buf.Reset()
	defer buffers.Put(buf)
	if _, err := io.Copy(buf, resp.Body); err != nil {
		return fmt.Errorf("leer la respuesta: %w", err)
	}
	b := buf.Bytes()
	if data == nil && resp.StatusCode == http.StatusOK && !bytes.Contains(b, []byte(`"errors"`)) {
		return nil
	}
	var r response
	if err := json.Unmarshal(b, &r); err != nil {
		return &Error{Status: resp.StatusCode, Message: fmt.Sprintf("respuesta no JSON: %.200s", b)}
	}
	if resp.StatusCode != http.StatusOK || len(r.Errors) > 0 {
		e := &Error{Status: resp.StatusCode, Count: len(r.Errors)}
		if len(r.Errors) > 0 {
			e.Message, e.Code, e.Fields = r.Errors[0].Message, r.Errors[0].Extensions.Code, r.Errors[0].Extensions.Fields
		}
		return e
	}
	if data != nil {
		if err := json.Unmarshal(r.Data, data); err != nil {
			return fmt.Errorf("decodificar data: %w", err)
		}
	}
	return nil
}
