package webhooks

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// DefaultTimeout bounds one delivery attempt, connection to last byte.
const DefaultTimeout = 10 * time.Second

// Emisor POSTs signed events to webhook URLs.
type Emisor struct {
	client   *http.Client
	inseguro bool
	now      func() time.Time
}

// OpcionesEmisor tune NuevoEmisor.
type OpcionesEmisor struct {
	// Timeout of one attempt; 0 means DefaultTimeout.
	Timeout time.Duration
	// PermitirInseguro allows http:// and private addresses (development
	// and tests).
	PermitirInseguro bool
	// RootCAs, when set, replaces the system roots (tests' TLS servers).
	RootCAs *tls.Config
	// Now is the clock of webhook-timestamp; nil means time.Now.
	Now func() time.Time
}

// NuevoEmisor returns a sender whose connections can only reach public
// addresses (checked at dial time, after DNS) unless PermitirInseguro.
// It never uses a proxy from the environment (that would bypass the
// check) and never follows a redirect: a 3xx is a failed attempt, so a
// receiver cannot bounce a delivery to an internal address.
func NuevoEmisor(o OpcionesEmisor) *Emisor {
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	dialer := &net.Dialer{Timeout: min(timeout, 5*time.Second), KeepAlive: 30 * time.Second}
	if !o.PermitirInseguro {
		dialer.Control = controlSSRF
	}
	tlsCfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if o.RootCAs != nil {
		tlsCfg = o.RootCAs.Clone()
	}
	tr := &http.Transport{
		Proxy:                 nil,
		DialContext:           dialer.DialContext,
		TLSClientConfig:       tlsCfg,
		TLSHandshakeTimeout:   min(timeout, 5*time.Second),
		ResponseHeaderTimeout: timeout,
		MaxIdleConns:          64,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       90 * time.Second,
		ForceAttemptHTTP2:     true,
	}
	now := o.Now
	if now == nil {
		now = time.Now
	}
	return &Emisor{
		client: &http.Client{
			Transport:     tr,
			Timeout:       timeout,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		inseguro: o.PermitirInseguro,
		now:      now,
	}
}

// Envio is one delivery attempt.
type Envio struct {
	URL      string
	Secretos []string // the current secret, and the previous one during a rotation
	EventoID string
	Cuerpo   []byte
}

// Resultado is the outcome of one attempt.
type Resultado struct {
	// Status is the HTTP status, 0 when no response arrived.
	Status   int
	Duracion time.Duration
	// Err is nil exactly when the receiver answered 2xx.
	Err error
	// RetryAfter is the receiver's Retry-After (429, 503), 0 when absent.
	RetryAfter time.Duration
}

// Enviar makes one attempt: POST the body with the Standard Webhooks
// headers. A 2xx is a delivery; anything else, a redirect, a timeout or a
// refused connection is an error to retry.
func (e *Emisor) Enviar(ctx context.Context, env Envio) Resultado {
	start := time.Now()
	res := e.enviar(ctx, env)
	res.Duracion = time.Since(start)
	return res
}

func (e *Emisor) enviar(ctx context.Context, env Envio) Resultado {
	u, err := url.Parse(env.URL)
	if err != nil || (u.Scheme != "https" && !(e.inseguro && u.Scheme == "http")) {
		return Resultado{Err: errors.New("URL no permitida: se exige https")}
	}
	ts := e.now().Unix()
	sig, err := Firmar(env.Secretos, env.EventoID, ts, env.Cuerpo)
	if err != nil {
		return Resultado{Err: fmt.Errorf("firmar: %w", err)}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, env.URL, bytes.NewReader(env.Cuerpo))
	if err != nil {
		return Resultado{Err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "factoring-webhooks/1")
	req.Header.Set(HeaderID, env.EventoID)
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(HeaderSignature, sig)
	resp, err := e.client.Do(req)
	if err != nil {
		return Resultado{Err: describirError(err)}
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20)) // reuse the connection
	res := Resultado{Status: resp.StatusCode}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return res
	}
	res.Err = fmt.Errorf("HTTP %d%s", resp.StatusCode, resumen(snippet))
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		res.Err = fmt.Errorf("HTTP %d: las redirecciones no se siguen; registre la URL final", resp.StatusCode)
	}
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
		res.RetryAfter = retryAfter(resp.Header.Get("Retry-After"), e.now())
	}
	return res
}

// describirError turns a transport error into a short Spanish reason.
func describirError(err error) error {
	// The URL stays out of the message: it may carry a receiver's token.
	var uerr *url.Error
	if errors.As(err, &uerr) {
		err = uerr.Err
	}
	var prohibida *DireccionProhibidaError
	var netErr net.Error
	switch {
	case errors.As(err, &prohibida):
		return prohibida
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return fmt.Errorf("tiempo de espera agotado: %w", err)
	default:
		return err
	}
}

// resumen is the start of a response body for the delivery's error field:
// one line, printable, 200 characters at most.
func resumen(b []byte) string {
	s := strings.Join(strings.Fields(strings.ToValidUTF8(string(b), "")), " ")
	if s == "" {
		return ""
	}
	if utf8.RuneCountInString(s) > 200 {
		s = string([]rune(s)[:200]) + "…"
	}
	return ": " + s
}

// retryAfter reads a Retry-After header (seconds or an HTTP date).
func retryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n > 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
