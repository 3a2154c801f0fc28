// Package gqltest is the GraphQL client of the integration tests: it posts
// real queries to a real server (an httptest.Server running the API's full
// handler) and decodes the response, errors and their extensions included.
package gqltest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"
)

// Client posts GraphQL operations to one server.
type Client struct {
	t   testing.TB
	srv *httptest.Server
	// Header is sent with every request (tests set X-Request-ID or
	// Authorization here).
	Header http.Header
}

// New starts h on an httptest server, closed at cleanup.
func New(t testing.TB, h http.Handler) *Client {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &Client{t: t, srv: srv, Header: http.Header{}}
}

// URL is the server's base URL.
func (c *Client) URL() string { return c.srv.URL }

// Error is one GraphQL error as the API sends it.
type Error struct {
	Message    string `json:"message"`
	Path       []any  `json:"path"`
	Extensions struct {
		Code      string            `json:"code"`
		Fields    map[string]string `json:"fields"`
		RequestID string            `json:"requestId"`
	} `json:"extensions"`
}

// Response is a decoded GraphQL response.
type Response struct {
	Status     int
	Header     http.Header
	Data       json.RawMessage `json:"data"`
	Errors     []Error         `json:"errors"`
	Extensions map[string]any  `json:"extensions"`
	Raw        string          `json:"-"`
}

// Do posts query with variables (nil for none) and decodes the answer.
func (c *Client) Do(query string, variables map[string]any) Response {
	c.t.Helper()
	body, err := json.Marshal(map[string]any{"query": query, "variables": variables})
	require.NoError(c.t, err)
	req, err := http.NewRequest(http.MethodPost, c.srv.URL+"/graphql", bytes.NewReader(body))
	require.NoError(c.t, err)
	req.Header.Set("Content-Type", "application/json")
	return c.Send(req)
}

// Send sends a prepared request (any method, path or body) and decodes it.
func (c *Client) Send(req *http.Request) Response {
	c.t.Helper()
	for k, vs := range c.Header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	res, err := c.srv.Client().Do(req)
	require.NoError(c.t, err)
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	require.NoError(c.t, err)
	out := Response{Status: res.StatusCode, Header: res.Header, Raw: string(raw)}
	if len(raw) > 0 && raw[0] == '{' {
		require.NoError(c.t, json.Unmarshal(raw, &out), "body: %s", raw)
	}
	return out
}

// MustData posts query, requires that it succeeded without errors, and
// decodes data into dst.
func (c *Client) MustData(query string, variables map[string]any, dst any) {
	c.t.Helper()
	res := c.Do(query, variables)
	require.Empty(c.t, res.Errors, "query failed: %s", res.Raw)
	require.Equal(c.t, http.StatusOK, res.Status, res.Raw)
	require.NoError(c.t, json.Unmarshal(res.Data, dst), res.Raw)
}

// MustFail posts query and returns its only error, requiring there is one.
func (c *Client) MustFail(query string, variables map[string]any) Error {
	c.t.Helper()
	res := c.Do(query, variables)
	require.Len(c.t, res.Errors, 1, "expected exactly one error: %s", res.Raw)
	return res.Errors[0]
}
