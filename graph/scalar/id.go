package scalar

import (
	"io"
	"strconv"

	"github.com/99designs/gqlgen/graphql"

	"github.com/banpro/factoring/internal/gid"
)

// MarshalID writes a database id as the opaque GraphQL ID (see package gid).
func MarshalID(id int) graphql.Marshaler {
	return graphql.WriterFunc(func(w io.Writer) {
		_, _ = io.WriteString(w, strconv.Quote(gid.Encode(id)))
	})
}

// UnmarshalID reads an opaque GraphQL ID.
func UnmarshalID(v any) (int, error) {
	s, ok := v.(string)
	if !ok {
		return 0, invalid("Debe ser un ID tal como lo entrega la API.")
	}
	id, _, ok := gid.Decode(s)
	if !ok {
		return 0, invalid("El ID %q no es válido: use un ID tal como lo entrega la API.", truncate(s))
	}
	return id, nil
}

func truncate(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
