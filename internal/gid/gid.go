// Package gid encodes database ids as the API's opaque node IDs and back.
//
// A node's database id is globally unique: ent's sql/globalid feature gives
// every type its own range of 2^32 ids (Cliente from 0, Factura from 2^32,
// ...). On the wire the id is opaque: base64url of "Tipo:n", n being the
// position inside the type's range. Clients never parse it; the domain's
// messages name ids in this form so clients recognise them.
package gid

import (
	"encoding/base64"
	"strconv"
	"strings"

	"entgo.io/ent/dialect/sql/schema"

	"github.com/banpro/factoring/ent/migrate"
)

type nodeType struct {
	name  string
	start int
}

// nodeTypes maps the GraphQL type of each node to its table's id range.
var nodeTypes = []nodeType{
	{"Cliente", rangeStart(migrate.ClientesTable)},
	{"Factura", rangeStart(migrate.FacturasTable)},
	{"Operacion", rangeStart(migrate.OperacionesTable)},
	{"Deudor", rangeStart(migrate.DeudoresTable)},
	{"OperacionEvento", rangeStart(migrate.OperacionEventosTable)},
	{"Webhook", rangeStart(migrate.WebhooksTable)},
	{"Entrega", rangeStart(migrate.EntregasTable)},
	{"EventoAuditoria", rangeStart(migrate.EventosAuditoriaTable)},
}

const rangeSize = 1 << 32

func rangeStart(t *schema.Table) int {
	if t.Annotation == nil || t.Annotation.IncrementStart == nil {
		panic("gid: table " + t.Name + " has no global id range; is ent's sql/globalid feature on?")
	}
	return *t.Annotation.IncrementStart
}

// Encode renders a database id as the opaque GraphQL ID.
func Encode(id int) string {
	for _, t := range nodeTypes {
		if id > t.start && id < t.start+rangeSize {
			return base64.RawURLEncoding.EncodeToString([]byte(t.name + ":" + strconv.Itoa(id-t.start)))
		}
	}
	// Not a node id (cannot happen for rows ent wrote); still opaque, and it
	// will not decode, rather than silently aliasing another node.
	return "x" + strconv.Itoa(id)
}

// EncodeAll renders ids as opaque GraphQL IDs.
func EncodeAll(ids []int) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = Encode(id)
	}
	return out
}

// Decode turns an opaque GraphQL ID back into the database id, and names the
// node type the id belongs to.
func Decode(s string) (id int, typeName string, ok bool) {
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
