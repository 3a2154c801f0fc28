package despacho_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banpro/factoring/ent/entrega"
	"github.com/banpro/factoring/internal/correo"
	"github.com/banpro/factoring/internal/correo/smtptest"
	"github.com/banpro/factoring/internal/database"
	"github.com/banpro/factoring/internal/despacho"
	"github.com/banpro/factoring/internal/money"
	"github.com/banpro/factoring/internal/testkit"
)

// TestCorreoAprobacion: an approved operación's event e-mails the cliente
// (its address as stored), with the operation's amounts; other events
// send nothing; a server refusing the first try (451) gets it on a retry.
func TestCorreoAprobacion(t *testing.T) {
	testkit.EachDB(t, func(t *testing.T, db *database.DB) {
		srv := smtptest.Nuevo(t)
		srv.Fallar(1)
		env := testkit.NewEnv(t, db)
		c := env.MustCrearClienteActivo(t, "10000000")
		// The mutations enqueue their own events (cliente, facturas,
		// operación creada and aprobada): only the approval sends mail.
		op, _ := env.MustOperacionAprobada(t, c.ID, "300000", "150000")
		m, err := correo.New(srv.URL(), "no-responder@factoring.cl", correo.Opciones{TLS: srv.ClienteTLS})
		require.NoError(t, err)
		santiago, _ := time.LoadLocation("America/Santiago")
		correr(t, nuevo(t, db, func(o *despacho.Opciones) {
			o.Canales = map[entrega.Canal]despacho.Canal{entrega.CanalEMAIL: &despacho.CanalEmail{Mailer: m, DB: db, Zona: santiago}}
		}))
		esperar(t, 20*time.Second, "el correo entregado", func() bool { return contarEntregas(t, db, entrega.EstadoENTREGADA) == 1 })
		msgs := srv.Mensajes()
		require.Len(t, msgs, 1, "one e-mail: only the approval sends one")
		g := msgs[0]
		assert.Equal(t, c.Email, g.To)
		assert.Contains(t, g.Asunto, correo.Pesos(money.String(op.MontoADesembolsar)))
		assert.Contains(t, g.Texto, "Monto total de las facturas: $450.000,00")
		assert.Contains(t, g.Texto, "Monto a desembolsar:         "+correo.Pesos(money.String(op.MontoADesembolsar)))
		assert.Contains(t, g.Texto, "Facturas cedidas:            2")
		assert.Contains(t, g.Texto, c.RazonSocial)
		e := db.Client.Entrega.Query().OnlyX(ctx)
		assert.Equal(t, entrega.CanalEMAIL, e.Canal)
		assert.Equal(t, 2, e.Intento, "refused once (451), then sent")
	})
}
