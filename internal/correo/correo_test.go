package correo_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/banpro/factoring/internal/correo"
	"github.com/banpro/factoring/internal/correo/smtptest"
)

func TestPesos(t *testing.T) {
	for in, want := range map[string]string{
		"298000.00": "$298.000,00", "1.50": "$1,50", "1234567.89": "$1.234.567,89", "100": "$100", "x": "$x",
	} {
		assert.Equal(t, want, correo.Pesos(in), in)
	}
}

// TestEnviarAprobacion sends the approval e-mail to a real SMTP server
// that offers STARTTLS and requires PLAIN: the message goes over TLS,
// authenticated, to the cliente, with the amounts in Chilean format.
func TestEnviarAprobacion(t *testing.T) {
	srv := smtptest.Nuevo(t)
	m, err := correo.New(srv.URL(), "Factoring <no-responder@factoring.cl>", correo.Opciones{TLS: srv.ClienteTLS, Timeout: 10 * time.Second})
	require.NoError(t, err)
	santiago, _ := time.LoadLocation("America/Santiago")
	msg := correo.MensajeAprobacion(correo.Aprobacion{
		Para: "finanzas@cliente.cl", RazonSocial: "Comercial Ñandú SpA", OperacionID: "T3BlcmFjaW9uOjE",
		Fecha:              time.Date(2026, 3, 2, 15, 4, 0, 0, time.UTC),
		MontoTotalFacturas: "300000.00", TasaDescuento: "2.00", MontoDescuento: "2000.00", MontoADesembolsar: "298000.00",
		Facturas: 3, EventoID: "0190-abc", RequestID: "req-1",
	}, santiago)
	require.NoError(t, m.Enviar(context.Background(), msg))

	got := srv.Mensajes()
	require.Len(t, got, 1)
	g := got[0]
	assert.Equal(t, "finanzas@cliente.cl", g.To)
	assert.Equal(t, "no-responder@factoring.cl", g.From)
	assert.True(t, g.TLS, "STARTTLS was used")
	assert.Equal(t, smtptest.Usuario, g.Auth)
	assert.Equal(t, "Operación de factoring aprobada: $298.000,00 a desembolsar", g.Asunto)
	for _, want := range []string{
		"Estimado(a) cliente Comercial Ñandú SpA",
		"Su operación de factoring T3BlcmFjaW9uOjE fue aprobada el 02-03-2026 a las 12:04.",
		"Monto total de las facturas: $300.000,00",
		"Tasa de descuento:           2,00 %",
		"Descuento:                   $2.000,00",
		"Monto a desembolsar:         $298.000,00",
		"Facturas cedidas:            3",
	} {
		assert.Contains(t, g.Texto, want)
	}
	assert.Equal(t, "<0190-abc@factoring>", g.Headers.Get("Message-ID"))
}

// TestSinTLSNoEnviaCredenciales: against a server that does not offer
// STARTTLS (here: a client that does not trust the certificate cannot
// upgrade) the mailer fails rather than send the password in clear.
func TestSinTLSNoEnviaCredenciales(t *testing.T) {
	srv := smtptest.Nuevo(t)
	m, err := correo.New(srv.URL(), "no-responder@factoring.cl", correo.Opciones{Timeout: 5 * time.Second})
	require.NoError(t, err)
	err = m.Enviar(context.Background(), correo.Mensaje{Para: "a@b.cl", Asunto: "x", Texto: "y"})
	require.Error(t, err)
	assert.Empty(t, srv.Mensajes())
}
