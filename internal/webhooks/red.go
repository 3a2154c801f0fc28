package webhooks

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"
)

// MaxURL bounds a webhook URL, in characters.
const MaxURL = 2048

// reservados are the ranges a webhook may never reach besides those netip
// classifies (loopback, private, link-local, multicast, unspecified):
// "this network", carrier-grade NAT, IETF protocol assignments, the
// documentation and benchmarking nets, the reserved class E (with the
// broadcast address), and NAT64 prefixes that embed an IPv4 address.
var reservados = func() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range []string{
		"0.0.0.0/8", "100.64.0.0/10", "192.0.0.0/24", "192.0.2.0/24", "198.18.0.0/15",
		"198.51.100.0/24", "203.0.113.0/24", "240.0.0.0/4",
		"64:ff9b::/96", "64:ff9b:1::/48", "100::/64", "2001:db8::/32",
	} {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}()

// Prohibida reports whether a webhook may not reach address a: loopback,
// private, link-local, unspecified, multicast or reserved. An IPv4-mapped
// IPv6 address is judged as the IPv4 address it maps.
func Prohibida(a netip.Addr) bool {
	a = a.Unmap()
	if !a.IsValid() || a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() ||
		a.IsLinkLocalMulticast() || a.IsInterfaceLocalMulticast() || a.IsMulticast() || a.IsUnspecified() {
		return true
	}
	for _, p := range reservados {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// DireccionProhibidaError is a connection refused because the address it
// resolved to is one a webhook may not reach.
type DireccionProhibidaError struct{ Addr netip.Addr }

func (e *DireccionProhibidaError) Error() string {
	return fmt.Sprintf("dirección %s no permitida para webhooks (privada, de loopback o reservada)", e.Addr)
}

// controlSSRF is the net.Dialer Control of the webhook client: it runs
// after DNS resolution, on the very address about to be connected, so a
// hostname that resolves (or re-resolves, DNS rebinding) to an internal
// address is refused whatever it resolved to when the URL was checked.
func controlSSRF(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("dirección de conexión inesperada %q: %w", address, err)
	}
	if Prohibida(ap.Addr()) {
		return &DireccionProhibidaError{Addr: ap.Addr().Unmap()}
	}
	return nil
}

// Politica is what a webhook URL may be.
type Politica struct {
	// PermitirInseguro admits http:// and private or loopback addresses
	// (FACTORING_WEBHOOK_ALLOW_INSECURE: development and tests only).
	PermitirInseguro bool
	// Resolver resolves hostnames at validation; nil means net.DefaultResolver.
	Resolver interface {
		LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
	}
}

// problemaURL returns what is wrong with raw as a webhook URL under p, in
// Spanish, or "" when it is acceptable. The hostname is resolved (5 s at
// most) and refused when any address it resolves to is prohibited; the
// dialer checks again at every send.
func (p Politica) problemaURL(ctx context.Context, raw string) string {
	raw = strings.TrimSpace(raw)
	switch {
	case raw == "":
		return "Es obligatoria."
	case utf8.RuneCountInString(raw) > MaxURL:
		return fmt.Sprintf("Admite como máximo %d caracteres.", MaxURL)
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" || u.Opaque != "" {
		return "No es una URL absoluta válida (p. ej. https://hooks.ejemplo.cl/factoring)."
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && p.PermitirInseguro:
	case u.Scheme == "http":
		return "Debe usar https."
	default:
		return fmt.Sprintf("Debe usar https (no %s).", u.Scheme)
	}
	if u.User != nil {
		return "No puede llevar usuario ni contraseña: autentique con la firma del webhook."
	}
	host := u.Hostname()
	if p.PermitirInseguro {
		return ""
	}
	if a, err := netip.ParseAddr(host); err == nil {
		if Prohibida(a) {
			return fmt.Sprintf("Apunta a una dirección privada, de loopback o reservada (%s).", a.Unmap())
		}
		return ""
	}
	resolver := p.Resolver
	if resolver == nil {
		resolver = net.DefaultResolver
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	addrs, err := resolver.LookupNetIP(ctx, "ip", host)
	if err != nil || len(addrs) == 0 {
		var dnsErr *net.DNSError
		if errors.As(err, &dnsErr) && dnsErr.IsNotFound {
			return fmt.Sprintf("El host %s no existe.", host)
		}
		return fmt.Sprintf("No se pudo resolver el host %s.", host)
	}
	for _, a := range addrs {
		if Prohibida(a) {
			return fmt.Sprintf("El host %s resuelve a una dirección privada, de loopback o reservada (%s).", host, a.Unmap())
		}
	}
	return ""
}
