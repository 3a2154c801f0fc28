// Package smtptest runs a real SMTP server in the test process
// (emersion/go-smtp): STARTTLS with a certificate for 127.0.0.1, PLAIN
// authentication, and every accepted message kept for the test to read.
package smtptest

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/http/httptest"
	"net/mail"
	"strings"
	"sync"
	"testing"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Usuario and Clave are the credentials the server accepts.
const (
	Usuario = "factoring"
	Clave   = "s3creta"
)

// Mensaje is one accepted message, decoded.
type Mensaje struct {
	From, To string
	Asunto   string
	Texto    string
	Headers  mail.Header
	TLS      bool // the session was encrypted when the message came in
	Auth     string
}

// Servidor is the running server.
type Servidor struct {
	Addr string
	// ClienteTLS trusts the server's certificate.
	ClienteTLS *tls.Config

	mu    sync.Mutex
	msgs  []Mensaje
	fails int // next n messages refused with 451
}

// Nuevo starts a server on 127.0.0.1, closed at cleanup.
func Nuevo(t testing.TB) *Servidor {
	t.Helper()
	certSrv := httptest.NewUnstartedServer(nil) // only for its certificate
	certSrv.StartTLS()
	cert := certSrv.TLS.Certificates[0]
	pool := x509.NewCertPool()
	pool.AddCert(certSrv.Certificate())
	certSrv.Close()

	s := &Servidor{ClienteTLS: &tls.Config{RootCAs: pool}}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &sesion{s: s, c: c}, nil
	}))
	srv.Domain = "127.0.0.1"
	srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.Addr = ln.Addr().String()
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return s
}

// URL is the FACTORING_SMTP_URL of the server, with its credentials.
func (s *Servidor) URL() string { return "smtp://" + Usuario + ":" + Clave + "@" + s.Addr }

// Mensajes returns the messages accepted so far.
func (s *Servidor) Mensajes() []Mensaje {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Mensaje(nil), s.msgs...)
}

// Fallar makes the server refuse the next n messages (451, try later).
func (s *Servidor) Fallar(n int) {
	s.mu.Lock()
	s.fails = n
	s.mu.Unlock()
}

type sesion struct {
	s        *Servidor
	c        *smtp.Conn
	from, to string
	user     string
}

func (x *sesion) AuthMechanisms() []string { return []string{sasl.Plain} }

func (x *sesion) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != Usuario || pass != Clave {
			return errors.New("credenciales inválidas")
		}
		x.user = user
		return nil
	}), nil
}

func (x *sesion) Mail(from string, _ *smtp.MailOptions) error {
	if x.user == "" {
		return &smtp.SMTPError{Code: 530, Message: "autenticación requerida"}
	}
	x.from = from
	return nil
}

func (x *sesion) Rcpt(to string, _ *smtp.RcptOptions) error { x.to = to; return nil }

func (x *sesion) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	x.s.mu.Lock()
	defer x.s.mu.Unlock()
	if x.s.fails > 0 {
		x.s.fails--
		return &smtp.SMTPError{Code: 451, Message: "inténtelo más tarde"}
	}
	m, err := mail.ReadMessage(strings.NewReader(string(raw)))
	if err != nil {
		return err
	}
	subj, _ := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	body, _ := io.ReadAll(quotedprintable.NewReader(m.Body))
	_, tlsOK := x.c.TLSConnectionState()
	x.s.msgs = append(x.s.msgs, Mensaje{
		From: x.from, To: x.to, Asunto: subj, Texto: strings.ReplaceAll(string(body), "\r\n", "\n"),
		Headers: m.Header, TLS: tlsOK, Auth: x.user,
	})
	return nil
}

func (x *sesion) Reset()        { x.from, x.to = "", "" }
func (x *sesion) Logout() error { return nil }
