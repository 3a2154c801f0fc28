// Package webhooks is the integrators' side of the integration events:
// webhook subscriptions (create, update, delete, rotate the secret, re-send
// a delivery), the Standard Webhooks signature, the URL policy against
// SSRF, and the sender the dispatcher (package despacho) uses for every
// attempt.
//
// Each Service method is what one GraphQL mutation does, so its resolver is
// one call; the role check (admin) belongs to the GraphQL layer, as for
// every other mutation.
//
// Webhook changes are not entries of the audit trail (package auditoria):
// that trail is about clientes, facturas and operaciones, each entry tied
// to its entity and turned into an integration event. Each change is
// logged instead, at info, with who made it and under which request: the
// webhook's id, never its URL (it may carry the receiver's token) nor a
// secret.
package webhooks

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/banpro/factoring/ent"
	"github.com/banpro/factoring/ent/entrega"
	"github.com/banpro/factoring/internal/apperror"
	"github.com/banpro/factoring/internal/auth"
	"github.com/banpro/factoring/internal/clock"
	"github.com/banpro/factoring/internal/database"
	"github.com/banpro/factoring/internal/eventos"
	"github.com/banpro/factoring/internal/gid"
	"github.com/banpro/factoring/internal/requestid"
	"github.com/banpro/factoring/internal/validate"
)

// MaxDescripcion bounds a webhook's description, in characters.
const MaxDescripcion = 500

// DefaultGraciaRotacion is how long the previous secret keeps signing after
// a rotation, so receivers can switch without dropping a delivery.
const DefaultGraciaRotacion = 24 * time.Hour

// Service runs the webhook mutations.
type Service struct {
	db     *database.DB
	clock  clock.Clock
	pol    Politica
	boveda *Boveda
	gracia time.Duration
	avisar func()
	log    *slog.Logger
}

// Config is what the service needs besides the database.
type Config struct {
	Clock    clock.Clock
	Politica Politica
	// Boveda encrypts secrets at rest; nil stores them as they are.
	Boveda *Boveda
	// GraciaRotacion: 0 means DefaultGraciaRotacion.
	GraciaRotacion time.Duration
	// Logger records each change (nil: none).
	Logger *slog.Logger
}

// NewService returns the webhook service.
func NewService(db *database.DB, cfg Config) *Service {
	g := cfg.GraciaRotacion
	if g <= 0 {
		g = DefaultGraciaRotacion
	}
	c := cfg.Clock
	if c == nil {
		c = clock.System{}
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &Service{db: db, clock: c, pol: cfg.Politica, boveda: cfg.Boveda, gracia: g, avisar: eventos.Avisar, log: log}
}

// registrar logs a change: what, to which webhook or delivery, by whom,
// under which request, and attrs (never a URL or a secret).
func (s *Service) registrar(ctx context.Context, msg string, id int, attrs ...any) {
	s.log.InfoContext(ctx, msg, append([]any{"id", gid.Encode(id), "actor", auth.Actor(ctx),
		"request_id", requestid.FromContext(ctx)}, attrs...)...)
}

// CrearInput is the input of Crear (GraphQL CrearWebhookInput).
type CrearInput struct {
	URL         string
	Tipos       []string
	Descripcion *string
}

// Creado is a new webhook and its signing secret, which is shown only here
// (GraphQL WebhookCreado).
type Creado struct {
	Webhook *ent.Webhook
	Secreto string
}

// Crear subscribes url to the event types tipos (["*"] is all of them),
// active at once, with a fresh signing secret returned only in the result.
//
// Errors: VALIDATION_ERROR on url (missing, not https, more than 2048
// characters, user or password in it, an IP literal or a hostname resolving
// to a private, loopback, link-local or reserved address, an unresolvable
// host), on tipos (empty, unknown type, "*" with others) and on descripcion
// (more than 500 characters, control characters).
func (s *Service) Crear(ctx context.Context, in CrearInput) (*Creado, error) {
	v := validate.Errors{}
	u := s.checkURL(ctx, v, in.URL)
	tipos := checkTipos(v, in.Tipos)
	desc := v.OptionalText("descripcion", in.Descripcion, MaxDescripcion)
	if err := v.Err(); err != nil {
		return nil, err
	}
	secreto := NuevoSecreto()
	now := s.clock.Now()
	w, err := s.db.Client.Webhook.Create().
		SetURL(u).
		SetTipos(tipos).
		SetNillableDescripcion(desc).
		SetActivo(true).
		SetSecreto(s.boveda.Cerrar(secreto)).
		SetCreadoEn(now).
		SetActualizadoEn(now).
		Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("crear webhook: %w", err)
	}
	s.registrar(ctx, "webhook creado", w.ID, "tipos", w.Tipos)
	return &Creado{Webhook: w, Secreto: secreto}, nil
}

// ActualizarInput is the input of Actualizar: nil fields stay as they are;
// an empty Descripcion clears it.
type ActualizarInput struct {
	URL         *string
	Tipos       []string
	Descripcion *string
	Activo      *bool
}

// Actualizar changes a webhook's URL, types, description or whether it is
// active. An inactive webhook gets no new deliveries; those already
// pending end FALLIDA when their turn comes (re-sendable).
//
// Errors: NOT_FOUND; VALIDATION_ERROR on url, tipos and descripcion as for
// Crear (tipos, when given, must not be empty).
func (s *Service) Actualizar(ctx context.Context, id int, in ActualizarInput) (*ent.Webhook, error) {
	v := validate.Errors{}
	var u string
	if in.URL != nil {
		u = s.checkURL(ctx, v, *in.URL)
	}
	var tipos []string
	if in.Tipos != nil {
		tipos = checkTipos(v, in.Tipos)
	}
	var desc *string
	if in.Descripcion != nil {
		desc = v.OptionalText("descripcion", in.Descripcion, MaxDescripcion)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	var out *ent.Webhook
	err := s.db.WithTx(ctx, func(tx *ent.Tx) error {
		w, err := s.lock(ctx, tx, id)
		if err != nil {
			return err
		}
		up := tx.Webhook.UpdateOne(w).SetActualizadoEn(s.clock.Now())
		if in.URL != nil {
			up.SetURL(u)
		}
		if in.Tipos != nil {
			up.SetTipos(tipos)
		}
		if in.Descripcion != nil {
			if desc == nil {
				up.ClearDescripcion()
			} else {
				up.SetDescripcion(*desc)
			}
		}
		if in.Activo != nil {
			up.SetActivo(*in.Activo)
		}
		out, err = up.Save(ctx)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.registrar(ctx, "webhook actualizado", out.ID, "tipos", out.Tipos, "activo", out.Activo, "url_cambiada", in.URL != nil)
	return out, nil
}

// Eliminar deletes a webhook and its deliveries (an attempt in flight may
// still arrive) and returns it as it was.
//
// Errors: NOT_FOUND.
func (s *Service) Eliminar(ctx context.Context, id int) (*ent.Webhook, error) {
	var out *ent.Webhook
	err := s.db.WithTx(ctx, func(tx *ent.Tx) error {
		w, err := s.lock(ctx, tx, id)
		if err != nil {
			return err
		}
		out = w
		return tx.Webhook.DeleteOne(w).Exec(ctx)
	})
	if err != nil {
		return nil, err
	}
	s.registrar(ctx, "webhook eliminado", out.ID)
	return out, nil
}

// RotarSecreto gives a webhook a new signing secret, returned only here.
// The previous one keeps signing beside it (two signatures in
// webhook-signature) for 24 hours, so receivers can switch without losing
// a delivery; a second rotation within that time drops the oldest.
//
// Errors: NOT_FOUND.
func (s *Service) RotarSecreto(ctx context.Context, id int) (*Creado, error) {
	secreto := NuevoSecreto()
	var out *ent.Webhook
	err := s.db.WithTx(ctx, func(tx *ent.Tx) error {
		w, err := s.lock(ctx, tx, id)
		if err != nil {
			return err
		}
		now := s.clock.Now()
		out, err = tx.Webhook.UpdateOne(w).
			SetSecretoAnterior(w.Secreto).
			SetSecretoAnteriorHasta(now.Add(s.gracia)).
			SetSecreto(s.boveda.Cerrar(secreto)).
			SetActualizadoEn(now).
			Save(ctx)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.registrar(ctx, "secreto de webhook rotado", out.ID, "anterior_vigente_hasta", out.SecretoAnteriorHasta)
	return &Creado{Webhook: out, Secreto: secreto}, nil
}

// ReenviarEntrega puts a finished delivery (FALLIDA, or ENTREGADA to send
// it again) back in the queue: PENDIENTE, due now, with a new retry window.
// It goes out in its subject's order, after any earlier delivery of the
// same subject to the same destination still pending.
//
// Errors: NOT_FOUND; CONFLICT when it is already PENDIENTE.
func (s *Service) ReenviarEntrega(ctx context.Context, id int) (*ent.Entrega, error) {
	var out *ent.Entrega
	err := s.db.WithTx(ctx, func(tx *ent.Tx) error {
		locked, err := s.db.Lock(ctx, tx, database.LockSet{EntregaID: &id})
		if err != nil {
			return err
		}
		e := locked.Entrega
		if e.Estado == entrega.EstadoPENDIENTE {
			return apperror.Conflictf("La entrega %s ya está PENDIENTE: saldrá en su próximo intento.", gid.Encode(id))
		}
		now := s.clock.Now()
		out, err = tx.Entrega.UpdateOne(e).
			SetEstado(entrega.EstadoPENDIENTE).
			SetProximoIntento(now).
			SetReintentosDesde(now).
			ClearReclamadaHasta().
			ClearReclamadaPor().
			Save(ctx)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.registrar(ctx, "entrega reenviada", out.ID, "evento", out.EventoID, "tipo", out.Tipo)
	s.avisar()
	return out, nil
}

// Secretos returns the secrets that sign w's deliveries at instant now: the
// current one, and the previous one while its grace period lasts.
func Secretos(b *Boveda, w *ent.Webhook, now time.Time) ([]string, error) {
	cur, err := b.Abrir(w.Secreto)
	if err != nil {
		return nil, err
	}
	out := []string{cur}
	if w.SecretoAnterior != nil && w.SecretoAnteriorHasta != nil && now.Before(*w.SecretoAnteriorHasta) {
		prev, err := b.Abrir(*w.SecretoAnterior)
		if err != nil {
			return nil, err
		}
		out = append(out, prev)
	}
	return out, nil
}

// Acepta reports whether a webhook subscribed to tipos gets events of tipo.
func Acepta(tipos []string, tipo string) bool {
	return slices.Contains(tipos, eventos.Comodin) || slices.Contains(tipos, tipo)
}

func (s *Service) lock(ctx context.Context, tx *ent.Tx, id int) (*ent.Webhook, error) {
	locked, err := s.db.Lock(ctx, tx, database.LockSet{WebhookID: &id})
	return locked.Webhook, err
}

func (s *Service) checkURL(ctx context.Context, v validate.Errors, raw string) string {
	if msg := s.pol.problemaURL(ctx, raw); msg != "" {
		v.Add("url", "%s", msg)
	}
	return strings.TrimSpace(raw)
}

// ValidarURL checks raw as a webhook URL under p and returns a
// VALIDATION_ERROR on field url, or nil.
func ValidarURL(ctx context.Context, p Politica, raw string) error {
	v := validate.Errors{}
	if msg := p.problemaURL(ctx, raw); msg != "" {
		v.Add("url", "%s", msg)
	}
	return v.Err()
}

// checkTipos validates a subscription's types and returns them trimmed and
// without repeats, in the order given.
func checkTipos(v validate.Errors, tipos []string) []string {
	var out []string
	var unknown []string
	for _, t := range tipos {
		t = strings.TrimSpace(t)
		switch {
		case slices.Contains(out, t):
		case t == eventos.Comodin || eventos.Valido(t):
			out = append(out, t)
		default:
			unknown = append(unknown, fmt.Sprintf("%q", t))
		}
	}
	switch {
	case len(unknown) > 0:
		names := make([]string, len(eventos.Todos))
		for i, t := range eventos.Todos {
			names[i] = string(t)
		}
		v.Add("tipos", "Tipo de evento desconocido: %s. Use \"*\" o algunos de: %s.",
			strings.Join(unknown, ", "), strings.Join(names, ", "))
	case len(out) == 0:
		v.Add("tipos", "Indique al menos un tipo de evento, o \"*\" para todos.")
	case len(out) > 1 && slices.Contains(out, eventos.Comodin):
		v.Add("tipos", "\"*\" ya incluye todos los tipos: no lo combine con otros.")
	}
	return out
}
