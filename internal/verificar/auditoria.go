package verificar

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/banpro/factoring/ent"
	"github.com/banpro/factoring/internal/estado"
	"github.com/banpro/factoring/internal/money"
)

// auditoria is the audit trail indexed by the entity each entry is about,
// each entity's entries in id order.
type auditoria struct {
	de map[estado.Entidad]map[int][]*ent.EventoAuditoria
}

func newAuditoria(entries []*ent.EventoAuditoria) auditoria {
	a := auditoria{de: map[estado.Entidad]map[int][]*ent.EventoAuditoria{}}
	for _, e := range entries { // already in id order
		m := a.de[e.Entidad]
		if m == nil {
			m = map[int][]*ent.EventoAuditoria{}
			a.de[e.Entidad] = m
		}
		m[e.EntidadID] = append(m[e.EntidadID], e)
	}
	return a
}

// creacion says what is wrong with the creation entry of own (an entity's
// entries): there must be exactly one, of kind tipo, and it must be the
// first.
func creacion(own []*ent.EventoAuditoria, tipo estado.TipoAuditoria) string {
	n := 0
	for _, e := range own {
		if e.Tipo == tipo {
			n++
		}
	}
	switch {
	case n == 0:
		return fmt.Sprintf("no tiene entrada de auditoría %s", tipo)
	case n > 1:
		return fmt.Sprintf("tiene %d entradas de auditoría %s", n, tipo)
	case own[0].Tipo != tipo:
		return fmt.Sprintf("su primera entrada de auditoría es %s, no %s", own[0].Tipo, tipo)
	}
	return ""
}

// ultimoEstado is the estadoNuevo of the latest of own that changed the
// state, and its id; "" when none did.
func ultimoEstado(own []*ent.EventoAuditoria) (string, int) {
	for _, e := range slices.Backward(own) {
		if e.EstadoNuevo != nil {
			return *e.EstadoNuevo, e.ID
		}
	}
	return "", 0
}

// estadoSegun says what is wrong when actual is not the state the latest
// of own that changed it left.
func estadoSegun(own []*ent.EventoAuditoria, actual string) string {
	switch got, _ := ultimoEstado(own); {
	case got == "":
		return fmt.Sprintf("está %s pero ninguna entrada de auditoría registra su estado", actual)
	case got != actual:
		return fmt.Sprintf("está %s pero su última entrada de auditoría que cambió el estado lo dejó %s", actual, got)
	}
	return ""
}

func (a auditoria) cliente(c *ent.Cliente) string {
	own := a.de[estado.EntidadCliente][c.ID]
	var msgs []string
	if msg := creacion(own, estado.AudClienteCreado); msg != "" {
		msgs = append(msgs, msg)
	}
	if msg := estadoSegun(own, string(c.Estado)); msg != "" {
		msgs = append(msgs, msg)
	}
	linea, found := "", false
	for _, e := range slices.Backward(own) {
		if v, ok := nuevo(e, "lineaCredito"); ok {
			linea, found = v, true
			break
		}
	}
	switch want := money.String(c.LineaCredito); {
	case !found:
		msgs = append(msgs, "ninguna entrada de auditoría registra su lineaCredito")
	case linea != want:
		msgs = append(msgs, fmt.Sprintf("lineaCredito %s pero su última entrada de auditoría que la fija dice %s", want, linea))
	}
	return strings.Join(msgs, "; ")
}

// factura checks f's own entries and the entries of the operaciones ops
// that held it: the latest of them that moved it names its state.
func (a auditoria) factura(f *ent.Factura, ops []int) string {
	own := a.de[estado.EntidadFactura][f.ID]
	var msgs []string
	if msg := creacion(own, estado.AudFacturaRegistrada); msg != "" {
		msgs = append(msgs, msg)
	}
	want, at := ultimoEstado(own)
	for _, opID := range ops {
		for _, e := range a.de[estado.EntidadOperacion][opID] {
			if accion, ok := estado.AccionSobreFacturas(e.Tipo); ok && e.ID > at {
				want, at = string(estado.Facturas.Hacia(accion)), e.ID
			}
		}
	}
	switch {
	case want == "":
		msgs = append(msgs, fmt.Sprintf("está %s pero ninguna entrada de auditoría explica su estado", f.Estado))
	case want != string(f.Estado):
		msgs = append(msgs, fmt.Sprintf("está %s pero según la auditoría debería estar %s", f.Estado, want))
	}
	return strings.Join(msgs, "; ")
}

// operacion checks that o's entries mirror its events one by one (the
// kind, the states, the request) and end in its state.
func (a auditoria) operacion(o *ent.Operacion, evs []*ent.OperacionEvento) string {
	own := a.de[estado.EntidadOperacion][o.ID]
	var msgs []string
	if msg := creacion(own, estado.AudOperacionCreada); msg != "" {
		msgs = append(msgs, msg)
	}
	if msg := estadoSegun(own, string(o.Estado)); msg != "" {
		msgs = append(msgs, msg)
	}
	evs = slices.SortedFunc(slices.Values(evs), func(x, y *ent.OperacionEvento) int { return cmp.Compare(x.ID, y.ID) })
	if len(evs) != len(own) {
		msgs = append(msgs, fmt.Sprintf("tiene %d eventos pero %d entradas de auditoría", len(evs), len(own)))
	} else {
		for i, ev := range evs {
			e := own[i]
			if e.Tipo != estado.AuditoriaDe(ev.Tipo) || opt(ev.EstadoAnterior) != opt(e.EstadoAnterior) ||
				opt(e.EstadoNuevo) != string(ev.EstadoNuevo) || e.RequestID != ev.RequestID {
				msgs = append(msgs, fmt.Sprintf("la entrada de auditoría %d (%s) no corresponde al evento %s", i+1, e.Tipo, ev.Tipo))
				break
			}
		}
	}
	return strings.Join(msgs, "; ")
}

// deudor checks d's own entries: its creation, its state and its
// lineaExposicion (nil, no limit, when no entry set one).
func (a auditoria) deudor(d *ent.Deudor) string {
	own := a.de[estado.EntidadDeudor][d.ID]
	var msgs []string
	if msg := creacion(own, estado.AudDeudorCreado); msg != "" {
		msgs = append(msgs, msg)
	}
	if msg := estadoSegun(own, string(d.Estado)); msg != "" {
		msgs = append(msgs, msg)
	}
	var linea any // the new value of the latest entry that set it
	for _, e := range slices.Backward(own) {
		cambios, _ := e.Detalle["cambios"].(map[string]any)
		if c, ok := cambios["lineaExposicion"].(map[string]any); ok {
			linea = c["nuevo"]
			break
		}
	}
	var want any
	if d.LineaExposicion != nil {
		want = money.String(*d.LineaExposicion)
	}
	if linea != want {
		msgs = append(msgs, fmt.Sprintf("lineaExposicion %v pero según su auditoría debería ser %v", orNinguna(want), orNinguna(linea)))
	}
	return strings.Join(msgs, "; ")
}

func orNinguna(v any) any {
	if v == nil {
		return "ninguna"
	}
	return v
}

// nuevo is the new value of field in e's detalle.cambios, if e changed it.
func nuevo(e *ent.EventoAuditoria, field string) (string, bool) {
	cambios, _ := e.Detalle["cambios"].(map[string]any)
	c, _ := cambios[field].(map[string]any)
	v, ok := c["nuevo"].(string)
	return v, ok
}

// opt renders an optional state, "" for none.
func opt[S ~string](s *S) string {
	if s == nil {
		return ""
	}
	return string(*s)
}
