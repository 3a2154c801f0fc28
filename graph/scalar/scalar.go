// Package scalar implements the GraphQL scalars of the API contract: opaque
// node IDs, Decimal (exact money), Date, Time and JSON.
//
// Every parse failure is an *apperror.Error with code VALIDATION_ERROR and a
// message about the value; the error presenter names the offending argument
// from the error's path.
package scalar

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"github.com/banpro/factoring/internal/apperror"
)

// invalid is a VALIDATION_ERROR whose field the presenter fills in from the
// argument path, because a scalar does not know which argument it parses.
func invalid(format string, args ...any) error {
	return apperror.Validationf(format, args...)
}

// DateLayout is the wire form of a Date.
const DateLayout = "2006-01-02"

// MarshalDate writes a calendar date as YYYY-MM-DD.
func MarshalDate(t time.Time) graphql.Marshaler {
	return quoted(t.UTC().Format(DateLayout))
}

// UnmarshalDate reads a calendar date written exactly as YYYY-MM-DD. The
// result is midnight UTC, the form every date takes in this code base.
func UnmarshalDate(v any) (time.Time, error) {
	s, ok := v.(string)
	if !ok || len(s) != len(DateLayout) {
		return time.Time{}, invalid("Debe ser una fecha con formato AAAA-MM-DD, p. ej. \"2026-03-31\".")
	}
	t, err := time.Parse(DateLayout, s)
	if err != nil {
		return time.Time{}, invalid("Debe ser una fecha válida con formato AAAA-MM-DD, p. ej. \"2026-03-31\".")
	}
	return t, nil
}

// MarshalTime writes an instant in RFC 3339, in UTC.
func MarshalTime(t time.Time) graphql.Marshaler {
	return quoted(t.UTC().Format(time.RFC3339Nano))
}

// UnmarshalTime reads an RFC 3339 instant with any offset and keeps it in UTC
// at microsecond precision, the precision the database stores.
func UnmarshalTime(v any) (time.Time, error) {
	s, ok := v.(string)
	if !ok {
		return time.Time{}, invalid("Debe ser un instante RFC 3339, p. ej. \"2026-03-31T12:00:00Z\".")
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, invalid("Debe ser un instante RFC 3339, p. ej. \"2026-03-31T12:00:00Z\".")
	}
	return t.UTC().Truncate(time.Microsecond), nil
}

// MarshalJSON writes a JSON object (an event's detalle).
func MarshalJSON(m map[string]any) graphql.Marshaler {
	return graphql.WriterFunc(func(w io.Writer) {
		b, err := json.Marshal(m)
		if err != nil {
			// detalle is built by the services from strings and numbers, so
			// this cannot fail; null keeps the response well-formed if it did.
			_, _ = io.WriteString(w, "null")
			return
		}
		_, _ = w.Write(b)
	})
}

// UnmarshalJSON reads a JSON object.
func UnmarshalJSON(v any) (map[string]any, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, invalid("Debe ser un objeto JSON.")
	}
	return m, nil
}

func quoted(s string) graphql.Marshaler {
	return graphql.WriterFunc(func(w io.Writer) {
		_, _ = io.WriteString(w, strconv.Quote(s))
	})
}

// describe renders a rejected input value for a message, bounded so that a
// huge value cannot flood a response or a log.
func describe(v any) string {
	s := fmt.Sprint(v)
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	return s
}
