package despacho

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/banpro/factoring/ent"
	"github.com/banpro/factoring/ent/cliente"
	"github.com/banpro/factoring/internal/clock"
	"github.com/banpro/factoring/internal/correo"
	"github.com/banpro/factoring/internal/database"
	"github.com/banpro/factoring/internal/eventos"
	"github.com/banpro/factoring/internal/gid"
	"github.com/banpro/factoring/internal/webhooks"
)

// CanalWebhook POSTs deliveries to their webhook, signed with its
// secrets.
type CanalWebhook struct {
	Emisor *webhooks.Emisor
	Boveda *webhooks.Boveda
	Clock  clock.Clock
}

// Entregar implements Canal.
func (c *CanalWebhook) Entregar(ctx context.Context, e *ent.Entrega) Intento {
	w := e.Edges.Webhook
	switch {
	case w == nil:
		return Intento{Err: errors.New("el webhook ya no existe"), Permanente: true}
	case !w.Activo:
		return Intento{Err: errors.New("el webhook está desactivado; reenvíe la entrega tras activarlo"), Permanente: true}
	}
	now := time.Now()
	if c.Clock != nil {
		now = c.Clock.Now()
	}
	secretos, err := webhooks.Secretos(c.Boveda, w, now)
	if err != nil {
		return Intento{Err: err}
	}
	r := c.Emisor.Enviar(ctx, webhooks.Envio{
		URL: w.URL, Secretos: secretos, EventoID: e.EventoID, Cuerpo: []byte(e.Edges.Outbox.Cuerpo),
	})
	return Intento{Status: r.Status, Duracion: r.Duracion, Err: r.Err, RetryAfter: r.RetryAfter}
}

// Publicador is what CanalNATS needs of natspub.Publicador.
type Publicador interface {
	Publicar(ctx context.Context, tipo, id string, cuerpo []byte) (duplicado bool, err error)
}

// CanalNATS publishes deliveries to JetStream.
type CanalNATS struct {
	Pub Publicador
}

// Entregar implements Canal. A duplicate acknowledgement (the server
// already had this event id) is a delivery too.
func (c *CanalNATS) Entregar(ctx context.Context, e *ent.Entrega) Intento {
	start := time.Now()
	_, err := c.Pub.Publicar(ctx, e.Tipo, e.EventoID, []byte(e.Edges.Outbox.Cuerpo))
	return Intento{Duracion: time.Since(start), Err: err}
}

// Mailer is what CanalEmail needs of correo.Mailer.
type Mailer interface {
	Enviar(ctx context.Context, msg correo.Mensaje) error
}

// CanalEmail e-mails the cliente of an approved operación.
type CanalEmail struct {
	Mailer Mailer
	DB     *database.DB
	// Zona renders the approval's date (the business time zone).
	Zona *time.Location
}

// Entregar implements Canal. The recipient is the cliente's e-mail as it
// is when the message goes out.
func (c *CanalEmail) Entregar(ctx context.Context, e *ent.Entrega) Intento {
	start := time.Now()
	err := c.entregar(ctx, e)
	in := Intento{Duracion: time.Since(start), Err: err}
	var perm permanente
	if errors.As(err, &perm) {
		in.Permanente = true
	}
	return in
}

type permanente struct{ error }

func (c *CanalEmail) entregar(ctx context.Context, e *ent.Entrega) error {
	var sobre eventos.Sobre
	if err := json.Unmarshal([]byte(e.Edges.Outbox.Cuerpo), &sobre); err != nil {
		return permanente{fmt.Errorf("sobre ilegible: %w", err)}
	}
	var d struct {
		OperacionID        string   `json:"operacion_id"`
		ClienteID          string   `json:"cliente_id"`
		MontoTotalFacturas string   `json:"monto_total_facturas"`
		TasaDescuento      string   `json:"tasa_descuento"`
		MontoDescuento     string   `json:"monto_descuento"`
		MontoADesembolsar  string   `json:"monto_a_desembolsar"`
		FacturaIDs         []string `json:"factura_ids"`
	}
	if err := json.Unmarshal(sobre.Data, &d); err != nil {
		return permanente{fmt.Errorf("datos ilegibles: %w", err)}
	}
	id, _, ok := gid.Decode(d.ClienteID)
	if !ok {
		return permanente{fmt.Errorf("cliente_id inválido %q", d.ClienteID)}
	}
	cl, err := c.DB.Client.Cliente.Query().Where(cliente.ID(id)).
		Select(cliente.FieldEmail, cliente.FieldRazonSocial).Only(ctx)
	if ent.IsNotFound(err) {
		return permanente{fmt.Errorf("el cliente %s no existe", d.ClienteID)}
	}
	if err != nil {
		return err
	}
	msg := correo.MensajeAprobacion(correo.Aprobacion{
		Para: cl.Email, RazonSocial: cl.RazonSocial, OperacionID: d.OperacionID, Fecha: sobre.Time,
		MontoTotalFacturas: d.MontoTotalFacturas, TasaDescuento: d.TasaDescuento,
		MontoDescuento: d.MontoDescuento, MontoADesembolsar: d.MontoADesembolsar,
		Facturas: len(d.FacturaIDs), EventoID: sobre.ID, RequestID: sobre.RequestID,
	}, c.Zona)
	return c.Mailer.Enviar(ctx, msg)
}
