package auth

import "slices"

// The roles a token may carry (claim "roles").
const (
	Lector    Role = "lector"    // reads everything
	Analista  Role = "analista"  // registers clientes, facturas (and their acuse) and operaciones (the maker)
	Riesgo    Role = "riesgo"    // decides on clientes, deudores, lines, limits and approvals (the checker)
	Tesoreria Role = "tesoreria" // moves money: payouts, payments, closings
	Auditor   Role = "auditor"   // reads everything, the audit trail across entities included; changes nothing
	Admin     Role = "admin"     // everything
)

// Permission is what a role may do: Consultar (every query) or a mutation,
// by its GraphQL name.
type Permission string

// Consultar is the permission of every query, node and nodes included,
// except those that need a permission of their own.
const Consultar Permission = "consultar"

// ConsultarAuditoria is the permission of Query.auditoria: searching the
// audit trail across entities, by actor or request ("what did this person
// do"). Each entity's own history (Cliente.eventos, Factura.eventos,
// Operacion.eventos) is read with Consultar.
const ConsultarAuditoria Permission = "auditoria"

// GestionarWebhooks is the permission of Query.webhooks and of reading a
// Webhook or an Entrega through node or nodes: the integrators' endpoints
// and what was sent to them. No role but admin has it, as no role but
// admin has the webhook mutations (crearWebhook … reenviarEntrega).
const GestionarWebhooks Permission = "webhooks"

// queryPermissions are the root query fields that need more than
// Consultar.
var queryPermissions = map[string]Permission{
	"auditoria": ConsultarAuditoria,
	"webhooks":  GestionarWebhooks,
}

// nodePermissions are the node types that need more than Consultar when
// read through node or nodes.
var nodePermissions = map[string]Permission{
	"Webhook": GestionarWebhooks,
	"Entrega": GestionarWebhooks,
}

// QueryPermission is the permission root query field name needs.
func QueryPermission(name string) Permission {
	if p, ok := queryPermissions[name]; ok {
		return p
	}
	return Consultar
}

// NodePermission is the permission reading a node of GraphQL type
// typeName through node or nodes needs.
func NodePermission(typeName string) Permission {
	if p, ok := nodePermissions[typeName]; ok {
		return p
	}
	return Consultar
}

// permisos is the role table (README, "Roles"). Roles do not include one
// another: every role reads, and each adds its own actions, so makers and
// checkers stay apart; a person who needs two roles gets both in the token.
// Admin may do everything.
var permisos = map[Role][]Permission{
	Lector:   {Consultar},
	Analista: {Consultar, "crearCliente", "actualizarCliente", "registrarFactura", "registrarAcuseFactura", "crearOperacion"},
	Riesgo: {Consultar, "activarCliente", "suspenderCliente", "bloquearCliente", "ajustarLineaCredito", "fijarConcentracionMaxima",
		"aprobarOperacion", "rechazarOperacion",
		"actualizarDeudor", "fijarLineaExposicion", "bloquearDeudor", "activarDeudor"},
	Tesoreria: {Consultar, "desembolsarOperacion", "pagarFactura", "anularFactura", "finalizarOperacion"},
	Auditor:   {Consultar, ConsultarAuditoria},
}

// Roles lists the known roles, in the order of the README's table.
func Roles() []Role { return []Role{Lector, Analista, Riesgo, Tesoreria, Auditor, Admin} }

// PermissionsOf lists what role r may do (nil for admin: everything).
func PermissionsOf(r Role) []Permission { return slices.Clone(permisos[r]) }

// Can reports whether p may do perm: one of its roles grants it. Unknown
// roles grant nothing.
func (p Principal) Can(perm Permission) bool {
	for _, r := range p.Roles {
		if r == Admin || slices.Contains(permisos[r], perm) {
			return true
		}
	}
	return false
}
