// Package correo sends the e-mail of an approved operación over SMTP
// (FACTORING_SMTP_URL), with the operation's amounts in Spanish.
//
// smtp://user:pass@host:587 upgrades with STARTTLS whenever the server
// offers it; smtps://host:465 is TLS from the first byte. Credentials are
// only ever sent over TLS or to a server on this machine (net/smtp's PLAIN
// refuses anything else), so a server that does not offer STARTTLS cannot
// harvest them.
package correo

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"net/url"
	"strings"
	"time"
)

// Mailer sends messages through one SMTP server.
type Mailer struct {
	addr     string // host:port
	host     string
	implicit bool // smtps://
	user     string
	pass     string
	from     *mail.Address
	tls      *tls.Config
	timeout  time.Duration
}

// Opciones tune New.
type Opciones struct {
	// TLS replaces the default TLS configuration (tests trust their own CA).
	TLS *tls.Config
	// Timeout bounds one message, connection to QUIT; 0 means 30 s.
	Timeout time.Duration
}

// New returns a mailer for rawURL (smtp:// or smtps://) sending from from.
func New(rawURL, from string, o Opciones) (*Mailer, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "smtp" && u.Scheme != "smtps") || u.Hostname() == "" {
		return nil, errors.New("FACTORING_SMTP_URL debe ser smtp://usuario:clave@host:puerto o smtps://…")
	}
	port := u.Port()
	if port == "" {
		port = map[string]string{"smtp": "587", "smtps": "465"}[u.Scheme]
	}
	addr, err := mail.ParseAddress(from)
	if err != nil {
		return nil, fmt.Errorf("FACTORING_SMTP_FROM %q no es una dirección de correo válida", from)
	}
	m := &Mailer{
		addr:     net.JoinHostPort(u.Hostname(), port),
		host:     u.Hostname(),
		implicit: u.Scheme == "smtps",
		from:     addr,
		timeout:  o.Timeout,
	}
	if u.User != nil {
		m.user = u.User.Username()
		m.pass, _ = u.User.Password()
	}
	if m.timeout <= 0 {
		m.timeout = 30 * time.Second
	}
	m.tls = &tls.Config{ServerName: m.host, MinVersion: tls.VersionTLS12}
	if o.TLS != nil {
		m.tls = o.TLS.Clone()
		if m.tls.ServerName == "" {
			m.tls.ServerName = m.host
		}
	}
	return m, nil
}

// Mensaje is one plain-text e-mail.
type Mensaje struct {
	Para   string
	Asunto string
	Texto  string
	// ID makes the Message-ID (<ID@factoring>), so a redelivered message
	// can be recognised by the receiving side.
	ID string
}

// Enviar delivers msg. Any error is worth retrying later (the dispatcher
// does), except an invalid recipient, which it reports as such.
func (m *Mailer) Enviar(ctx context.Context, msg Mensaje) error {
	to, err := mail.ParseAddress(msg.Para)
	if err != nil {
		return fmt.Errorf("destinatario inválido %q: %w", msg.Para, err)
	}
	body, err := m.componer(to, msg)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, m.timeout)
	defer cancel()
	d := &net.Dialer{}
	var conn net.Conn
	if m.implicit {
		conn, err = (&tls.Dialer{NetDialer: d, Config: m.tls}).DialContext(ctx, "tcp", m.addr)
	} else {
		conn, err = d.DialContext(ctx, "tcp", m.addr)
	}
	if err != nil {
		return fmt.Errorf("conectar con el servidor SMTP %s: %w", m.addr, err)
	}
	deadline, _ := ctx.Deadline()
	_ = conn.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Now()) })
	defer stop()
	c, err := smtp.NewClient(conn, m.host)
	if err != nil {
		_ = conn.Close()
		return fmt.Errorf("SMTP %s: %w", m.addr, err)
	}
	defer c.Close()
	if err := c.Hello("factoring"); err != nil {
		return fmt.Errorf("SMTP EHLO: %w", err)
	}
	if !m.implicit {
		if ok, _ := c.Extension("STARTTLS"); ok {
			if err := c.StartTLS(m.tls); err != nil {
				return fmt.Errorf("SMTP STARTTLS: %w", err)
			}
		}
	}
	if m.user != "" {
		if err := c.Auth(smtp.PlainAuth("", m.user, m.pass, m.host)); err != nil {
			return fmt.Errorf("SMTP AUTH: %w", err)
		}
	}
	if err := c.Mail(m.from.Address); err != nil {
		return fmt.Errorf("SMTP MAIL FROM: %w", err)
	}
	if err := c.Rcpt(to.Address); err != nil {
		return fmt.Errorf("SMTP RCPT TO %s: %w", to.Address, err)
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("SMTP DATA: %w", err)
	}
	if _, err := w.Write(body); err != nil {
		return fmt.Errorf("SMTP DATA: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("SMTP DATA: %w", err)
	}
	return c.Quit()
}

// componer renders msg as an RFC 5322 message: UTF-8 text in
// quoted-printable, the subject encoded as RFC 2047 words.
func (m *Mailer) componer(to *mail.Address, msg Mensaje) ([]byte, error) {
	id := msg.ID
	if id == "" {
		b := make([]byte, 16)
		_, _ = rand.Read(b)
		id = hex.EncodeToString(b)
	}
	var b bytes.Buffer
	h := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, v) }
	h("From", m.from.String())
	h("To", to.String())
	h("Subject", mime.QEncoding.Encode("utf-8", msg.Asunto))
	h("Date", time.Now().Format(time.RFC1123Z))
	h("Message-ID", "<"+id+"@factoring>")
	h("MIME-Version", "1.0")
	h("Content-Type", `text/plain; charset="utf-8"`)
	h("Content-Transfer-Encoding", "quoted-printable")
	h("Auto-Submitted", "auto-generated")
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	if _, err := qp.Write([]byte(strings.ReplaceAll(msg.Texto, "\n", "\r\n"))); err != nil {
		return nil, err
	}
	if err := qp.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
