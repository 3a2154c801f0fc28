package correo

import (
	"fmt"
	"strings"
	"time"
)

// Aprobacion is what the e-mail of an approved operación says.
type Aprobacion struct {
	Para               string // the cliente's e-mail
	RazonSocial        string
	OperacionID        string // global id
	Fecha              time.Time
	MontoTotalFacturas string // two decimals, "300000.00"
	TasaDescuento      string // percent, "2.00"
	MontoDescuento     string
	MontoADesembolsar  string
	Facturas           int
	EventoID           string
	RequestID          string
}

// MensajeAprobacion renders the Spanish e-mail of a.
func MensajeAprobacion(a Aprobacion, zona *time.Location) Mensaje {
	if zona == nil {
		zona = time.UTC
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Estimado(a) cliente %s:\n\n", a.RazonSocial)
	fmt.Fprintf(&b, "Su operación de factoring %s fue aprobada el %s.\n\n", a.OperacionID,
		a.Fecha.In(zona).Format("02-01-2006 a las 15:04"))
	fmt.Fprintf(&b, "  Monto total de las facturas: %s\n", Pesos(a.MontoTotalFacturas))
	fmt.Fprintf(&b, "  Tasa de descuento:           %s %%\n", decimalCL(a.TasaDescuento))
	if a.MontoDescuento != "" {
		fmt.Fprintf(&b, "  Descuento:                   %s\n", Pesos(a.MontoDescuento))
	}
	fmt.Fprintf(&b, "  Monto a desembolsar:         %s\n", Pesos(a.MontoADesembolsar))
	fmt.Fprintf(&b, "  Facturas cedidas:            %d\n\n", a.Facturas)
	b.WriteString("Este es un mensaje automático; por favor no lo responda.\n")
	fmt.Fprintf(&b, "Referencia: evento %s, solicitud %s.\n", a.EventoID, a.RequestID)
	return Mensaje{
		Para:   a.Para,
		Asunto: fmt.Sprintf("Operación de factoring aprobada: %s a desembolsar", Pesos(a.MontoADesembolsar)),
		Texto:  b.String(),
		ID:     a.EventoID,
	}
}

// Pesos renders an amount with two decimals ("298000.00") as Chilean text:
// "$298.000,00". Anything that is not such an amount is returned as is.
func Pesos(amount string) string { return "$" + decimalCL(amount) }

// decimalCL puts Chilean separators on a decimal: thousands with '.', the
// decimal comma.
func decimalCL(s string) string {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	ent, frac, hasFrac := strings.Cut(s, ".")
	for _, r := range ent + frac {
		if r < '0' || r > '9' {
			return s
		}
	}
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, r := range ent {
		if i > 0 && (len(ent)-i)%3 == 0 {
			b.WriteByte('.')
		}
		b.WriteRune(r)
	}
	if hasFrac {
		b.WriteByte(',')
		b.WriteString(frac)
	}
	return b.String()
}
