package clientes

import (
	"context"
	"fmt"

	"github.com/shopspring/decimal"

	"github.com/banpro/factoring/ent"
	"github.com/banpro/factoring/ent/cliente"
	"github.com/banpro/factoring/internal/apperror"
	"github.com/banpro/factoring/internal/auditoria"
	"github.com/banpro/factoring/internal/clock"
	"github.com/banpro/factoring/internal/database"
	"github.com/banpro/factoring/internal/estado"
	"github.com/banpro/factoring/internal/money"
	"github.com/banpro/factoring/internal/validate"
)

// Service runs the cliente mutations. Each one is a single transaction that
// locks the cliente row it decides on.
type Service struct {
	db    *database.DB
	clock clock.Clock
	// concentracion is the concentracionMaxima of a cliente nobody set one
	// for (FACTORING_CONCENTRACION_MAXIMA).
	concentracion decimal.Decimal
}

// Option adjusts the cliente service.
type Option func(*Service)

// ConConcentracionMaxima sets the concentracionMaxima of the clientes
// nobody set one for (the configured FACTORING_CONCENTRACION_MAXIMA);
// without it, 100.00: no cap.
func ConConcentracionMaxima(porcentaje decimal.Decimal) Option {
	return func(s *Service) { s.concentracion = porcentaje }
}

// NewService returns the cliente service.
func NewService(db *database.DB, c clock.Clock, opts ...Option) *Service {
	s := &Service{db: db, clock: c, concentracion: SinTope}
	for _, o := range opts {
		o(s)
	}
	return s
}

// ConcentracionMaxima is the cliente's concentracionMaxima: its own, or
// the configured one when nobody set it.
func (s *Service) ConcentracionMaxima(c *ent.Cliente) decimal.Decimal {
	return Concentracion(c, s.concentracion)
}

// Field lengths (docs/dominio.md, "Cliente").
const (
	maxRazonSocial = 255
	maxGiro        = 255
	maxDireccion   = 255
	maxTelefono    = 50
	maxMotivo      = 500
)

// CrearInput is the input of Crear (GraphQL CrearClienteInput).
type CrearInput struct {
	Rut          string
	RazonSocial  string
	Giro         *string
	Direccion    *string
	Telefono     *string
	Email        string
	LineaCredito decimal.Decimal
}

// Crear registers a cliente in PENDIENTE with its whole credit line
// available. The RUT is stored in its canonical form, so every spelling of
// one RUT names one cliente.
//
// Errors: VALIDATION_ERROR (rut, razonSocial, giro, direccion, telefono,
// email, lineaCredito); CONFLICT on rut when the RUT is already registered.
func (s *Service) Crear(ctx context.Context, in CrearInput) (*ent.Cliente, error) {
	v := validate.Errors{}
	rut := v.RUT("rut", in.Rut)
	razonSocial := v.Text("razonSocial", in.RazonSocial, 1, maxRazonSocial)
	giro := v.OptionalText("giro", in.Giro, maxGiro)
	direccion := v.OptionalText("direccion", in.Direccion, maxDireccion)
	telefono := v.OptionalText("telefono", in.Telefono, maxTelefono)
	email := v.Email("email", in.Email)
	v.NotNegative("lineaCredito", in.LineaCredito)
	if err := v.Err(); err != nil {
		return nil, err
	}
	duplicate := apperror.ConflictOn("rut", fmt.Sprintf("Ya existe un cliente con RUT %s.", rut))

	var created *ent.Cliente
	err := s.db.WithTx(ctx, func(tx *ent.Tx) error {
		exists, err := tx.Cliente.Query().Where(cliente.Rut(rut)).Exist(ctx)
		if err != nil {
			return err
		}
		if exists {
			return duplicate
		}
		now := s.clock.Now()
		created, err = tx.Cliente.Create().
			SetRut(rut).
			SetRazonSocial(razonSocial).
			SetNillableGiro(giro).
			SetNillableDireccion(direccion).
			SetNillableTelefono(telefono).
			SetEmail(email).
			SetFechaRegistro(now).
			SetLineaCredito(in.LineaCredito).
			SetLineaDisponible(in.LineaCredito).
			SetEstado(estado.ClientePendiente).
			SetCreadoEn(now).
			SetActualizadoEn(now).
			Save(ctx)
		if database.IsUniqueViolation(err) {
			// Another request registered the same RUT between our check and
			// our insert.
			return duplicate.WithCause(err)
		}
		if err != nil {
			return err
		}
		return auditoria.Registrar(ctx, tx, now, auditoria.Cliente(estado.AudClienteCreado, nil, created))
	})
	if err != nil {
		return nil, fmt.Errorf("crear cliente %s: %w", rut, err)
	}
	return created.Unwrap(), nil
}

// ActualizarInput is the input of Actualizar (GraphQL
// ActualizarClienteInput). A nil field is left as it is; an empty giro,
// direccion or telefono clears it.
type ActualizarInput struct {
	RazonSocial *string
	Giro        *string
	Direccion   *string
	Telefono    *string
	Email       *string
}

// Actualizar changes a cliente's data fields. The RUT, the state and the
// credit line change only through their own actions.
//
// Errors: NOT_FOUND; VALIDATION_ERROR (razonSocial, giro, direccion,
// telefono, email).
func (s *Service) Actualizar(ctx context.Context, id int, in ActualizarInput) (*ent.Cliente, error) {
	v := validate.Errors{}
	var razonSocial, email *string
	if in.RazonSocial != nil {
		t := v.Text("razonSocial", *in.RazonSocial, 1, maxRazonSocial)
		razonSocial = &t
	}
	if in.Email != nil {
		t := v.Email("email", *in.Email)
		email = &t
	}
	giro := v.OptionalText("giro", in.Giro, maxGiro)
	direccion := v.OptionalText("direccion", in.Direccion, maxDireccion)
	telefono := v.OptionalText("telefono", in.Telefono, maxTelefono)
	if err := v.Err(); err != nil {
		return nil, err
	}
	return s.update(ctx, id, "actualizar cliente", estado.AudClienteActualizado, func(c *ent.Cliente, u *ent.ClienteUpdateOne) error {
		u.SetNillableRazonSocial(razonSocial).SetNillableEmail(email)
		setOrClear(in.Giro, giro, u.SetGiro, u.ClearGiro)
		setOrClear(in.Direccion, direccion, u.SetDireccion, u.ClearDireccion)
		setOrClear(in.Telefono, telefono, u.SetTelefono, u.ClearTelefono)
		return nil
	})
}

// setOrClear applies an optional text field: absent (given == nil) leaves it,
// blank clears it, anything else sets it.
func setOrClear[U any](given, trimmed *string, set func(string) U, clear func() U) {
	switch {
	case given == nil:
	case trimmed == nil:
		clear()
	default:
		set(*trimmed)
	}
}

// AjustarLineaCredito sets a new credit line. The available line moves by
// the same amount, so the line in use stays what the approved operations
// hold.
//
// Errors: NOT_FOUND; VALIDATION_ERROR on lineaCredito when negative or below
// the line in use.
func (s *Service) AjustarLineaCredito(ctx context.Context, id int, nueva decimal.Decimal) (*ent.Cliente, error) {
	if nueva.IsNegative() {
		return nil, apperror.Invalid("lineaCredito", "No puede ser negativa.")
	}
	return s.update(ctx, id, "ajustar línea de crédito", estado.AudClienteLineaAjustada, func(c *ent.Cliente, u *ent.ClienteUpdateOne) error {
		if utilizada := LineaUtilizada(c); nueva.LessThan(utilizada) {
			return apperror.Invalid("lineaCredito", fmt.Sprintf(
				"No puede ser menor que la línea utilizada (%s): las operaciones aprobadas la ocupan.", money.String(utilizada)))
		}
		u.SetLineaCredito(nueva).SetLineaDisponible(c.LineaDisponible.Add(nueva.Sub(c.LineaCredito)))
		return nil
	})
}

// FijarConcentracionMaxima sets the percentage of its lineaCredito that the
// cliente may have at risk on any one deudor (checked when an operación is
// approved): more than 0 and at most 100, with two decimals; 100.00 is no
// cap. Lowering it below what the cliente already has on a deudor is
// allowed: nothing more is approved for that deudor until it falls below.
//
// Errors: VALIDATION_ERROR on porcentaje; NOT_FOUND.
func (s *Service) FijarConcentracionMaxima(ctx context.Context, id int, porcentaje decimal.Decimal) (*ent.Cliente, error) {
	switch {
	case !porcentaje.IsPositive() || porcentaje.GreaterThan(SinTope):
		return nil, apperror.Invalid("porcentaje", "Debe ser mayor que 0 y a lo más 100 (100.00: sin tope).")
	case !porcentaje.Equal(porcentaje.Round(2)):
		return nil, apperror.Invalid("porcentaje", "Admite como máximo 2 decimales.")
	}
	return s.update(ctx, id, "fijar concentración máxima", estado.AudClienteConcentracion, func(c *ent.Cliente, u *ent.ClienteUpdateOne) error {
		u.SetConcentracionMaxima(porcentaje)
		return nil
	})
}

// Activar moves a cliente from PENDIENTE or SUSPENDIDO to ACTIVO and clears
// the reason of its last suspension.
//
// Errors: NOT_FOUND; CONFLICT from any other state.
func (s *Service) Activar(ctx context.Context, id int) (*ent.Cliente, error) {
	return s.transition(ctx, id, estado.ActivarCliente, nil)
}

// Suspender moves an ACTIVO cliente to SUSPENDIDO, recording the reason if
// given.
//
// Errors: NOT_FOUND; VALIDATION_ERROR on motivo (too long); CONFLICT from any
// state but ACTIVO.
func (s *Service) Suspender(ctx context.Context, id int, motivo *string) (*ent.Cliente, error) {
	v := validate.Errors{}
	m := v.OptionalText("motivo", motivo, maxMotivo)
	if err := v.Err(); err != nil {
		return nil, err
	}
	return s.transition(ctx, id, estado.SuspenderCliente, m)
}

// Bloquear blocks a cliente for good (BLOQUEADO is final), with a required
// reason.
//
// Errors: NOT_FOUND; VALIDATION_ERROR on motivo (blank or too long);
// CONFLICT when already BLOQUEADO.
func (s *Service) Bloquear(ctx context.Context, id int, motivo string) (*ent.Cliente, error) {
	v := validate.Errors{}
	m := v.Text("motivo", motivo, 1, maxMotivo)
	if err := v.Err(); err != nil {
		return nil, err
	}
	return s.transition(ctx, id, estado.BloquearCliente, &m)
}

// transition applies a state action; motivoEstado becomes motivo (nil
// clears it).
func (s *Service) transition(ctx context.Context, id int, a estado.Accion, motivo *string) (*ent.Cliente, error) {
	return s.update(ctx, id, string(a), estado.AuditoriaDeAccion(a), func(c *ent.Cliente, u *ent.ClienteUpdateOne) error {
		next, err := estado.Clientes.Siguiente(a, c.Estado)
		if err != nil {
			return err
		}
		u.SetEstado(next)
		if motivo == nil {
			u.ClearMotivoEstado()
		} else {
			u.SetMotivoEstado(*motivo)
		}
		return nil
	})
}

// update is the shape of every change to one cliente: lock its row, let
// decide check the rules and fill the update, save, record the change in
// the audit trail as tipo, commit.
func (s *Service) update(ctx context.Context, id int, what string, tipo estado.TipoAuditoria, decide func(*ent.Cliente, *ent.ClienteUpdateOne) error) (*ent.Cliente, error) {
	var updated *ent.Cliente
	err := s.db.WithTx(ctx, func(tx *ent.Tx) error {
		now := s.clock.Now()
		l, err := s.db.Lock(ctx, tx, database.LockSet{ClienteID: &id})
		if err != nil {
			return err
		}
		u := tx.Cliente.UpdateOne(l.Cliente).SetActualizadoEn(now)
		if err := decide(l.Cliente, u); err != nil {
			return err
		}
		if updated, err = u.Save(ctx); err != nil {
			return err
		}
		return auditoria.Registrar(ctx, tx, now, auditoria.Cliente(tipo, l.Cliente, updated))
	})
	if err != nil {
		return nil, fmt.Errorf("%s %d: %w", what, id, err)
	}
	return updated.Unwrap(), nil
}
