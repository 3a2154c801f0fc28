package gqlserver

import (
	"context"
	"net/http"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/executor"
)

// NewWithoutInputLimits is New without the input limits, for the benchmark
// that measures what they cost.
func NewWithoutInputLimits(cfg Config) http.Handler { return newHandler(cfg, false) }

// Razon is razon: a message as a WebSocket close reason.
var Razon = razon

// InputLimitsOn prepares query with vars against es as the server does
// (parsed, validated, variables coerced) and returns a function that runs
// the input limits on it once: their cost alone, for the benchmark.
func InputLimitsOn(es graphql.ExecutableSchema, query string, vars map[string]any) (func() error, error) {
	ctx := graphql.StartOperationTrace(context.Background())
	params := &graphql.RawParams{Query: query, Variables: vars}
	oc, errs := executor.New(es).CreateOperationContext(ctx, params)
	if errs != nil {
		return nil, errs
	}
	g := &inputGuard{maxTokens: DefaultLimits.MaxTokens}
	if err := g.Validate(es); err != nil {
		return nil, err
	}
	return func() error {
		if err := g.MutateOperationParameters(ctx, params); err != nil {
			return err
		}
		if err := g.MutateOperationContext(ctx, oc); err != nil {
			return err
		}
		return nil
	}, nil
}

// SetStreamTimes shortens the streams' timing for a test and returns what
// restores it.
func SetStreamTimes(init, ping, write time.Duration) (restore func()) {
	oldInit, oldPing, oldWrite := initTimeout, keepAlive, writeTimeout
	initTimeout, keepAlive, writeTimeout = init, ping, write
	return func() { initTimeout, keepAlive, writeTimeout = oldInit, oldPing, oldWrite }
}
