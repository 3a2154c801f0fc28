package scalar

import (
	"encoding/base64"
	"io"
	"strconv"
	"strings"

	"entgo.io/ent/dialect/sql/schema"
	"github.com/99designs/gqlgen/graphql"

	"github.com/banpro/factoring/ent/migrate"
)

// A node's database id is globally unique: ent's sql/globalid feature gives
// every type its own range of 2^32 ids (Cliente from 0, Factura from 2^32,
// ...). On the wire the id is opaque: base64url of "Tipo:n", n being the
// position inside the type's range. Clients never parse it.
type nodeType struct {
	name  string
	start int
}

// nodeTypes maps the GraphQL type of each node to its table's id range.
var nodeTypes = []nodeType{
	{"Cliente", rangeStart(migrate.ClientesTable)},
	{"Factura", rangeStart(migrate.FacturasTable)},
	{"Operacion", rangeStart(migrate.OperacionesTable)},
	{"OperacionEvento", rangeStart(migrate.OperacionEventosTable)},
}

const rangeSize = 1 << 32

func rangeStart(t *schema.Table) int {
	if t.Annotation == nil || t.Annotation.IncrementStart == nil {
		panic("scalar: table " + t.Name + " has no global id range; is ent's sql/globalid feature on?")
	}
	return *t.Annotation.IncrementStart
}

// EncodeID renders a database id as the opaque GraphQL ID.
func EncodeID(id int) string {
	for _, t := range nodeTypes {
		if id > t.start && id < t.start+rangeSize {
			return base64.RawURLEncoding.EncodeToString([]byte(t.name + ":" + strconv.Itoa(id-t.start)))
		}
	}
	// Not a node id (cannot happen for rows ent wrote); still opaque-ish and
	// it will not decode, rather than silently aliasing another node.
	return "x" + strconv.Itoa(id)
}

// DecodeID turns an opaque GraphQL ID back into the database id. It also
// returns the node type the id names.
func DecodeID(s string) (id int, typeName string, ok bool) {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return 0, "", false
	}
	name, num, found := strings.Cut(string(raw), ":")
	if !found {
		return 0, "", false
	}
	n, err := strconv.Atoi(num)
	if err != nil || n < 1 || n >= rangeSize || num != strconv.Itoa(n) {
		return 0, "", false
	}
	for _, t := range nodeTypes {
		if t.name == name {
			return t.start + n, name, true
		}
	}
	return 0, "", false
}

// MarshalID writes a database id as the opaque GraphQL ID.
func MarshalID(id int) graphql.Marshaler {
	return graphql.WriterFunc(func(w io.Writer) {
		_, _ = io.WriteString(w, strconv.Quote(EncodeID(id)))
	})
}

// UnmarshalID reads an opaque GraphQL ID.
func UnmarshalID(v any) (int, error) {
	s, ok := v.(string)
	if !ok {
		return 0, invalid("Debe ser un ID tal como lo entrega la API.")
	}
	id, _, ok := DecodeID(s)
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
