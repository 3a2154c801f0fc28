package despacho

import (
	"context"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/banpro/factoring/internal/database"
)

// Tarea is a periodic job (the overdue job). Every replica that has it
// wakes at each scheduled time; the first to record the run in
// tareas_ejecuciones (a unique index on tarea and time) runs it, the
// others skip it. So it runs once per scheduled time however many
// replicas there are, and it stays runnable by hand.
type Tarea struct {
	Nombre string
	// Cron is a 5-field expression in Zona (e.g. "0 6 * * *").
	Cron string
	Zona *time.Location
	// Recuperar: at start, a scheduled time missed less than this long
	// ago (every replica was down) is run at once; 0 never catches up.
	Recuperar time.Duration
	Ejecutar  func(ctx context.Context) error
}

type tareaProgramada struct {
	Tarea
	sched cron.Schedule
}

func (t tareaProgramada) zona() *time.Location {
	if t.Zona == nil {
		return time.UTC
	}
	return t.Zona
}

// anterior is the latest scheduled time at or before now within horizon,
// zero when none.
func (t tareaProgramada) anterior(now time.Time, horizon time.Duration) time.Time {
	var prev time.Time
	for at := t.sched.Next(now.Add(-horizon).In(t.zona())); !at.After(now); at = t.sched.Next(at) {
		prev = at
	}
	return prev
}

func (d *Despachador) programar(ctx context.Context, t tareaProgramada) {
	if t.Recuperar > 0 {
		if prev := t.anterior(d.clock.Now(), t.Recuperar); !prev.IsZero() {
			d.ejecutarProgramada(ctx, t.Tarea, prev)
		}
	}
	for {
		next := t.sched.Next(d.clock.Now().In(t.zona()))
		timer := time.NewTimer(next.Sub(d.clock.Now()))
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-timer.C:
		}
		d.ejecutarProgramada(ctx, t.Tarea, next)
	}
}

// EjecutarProgramada runs t's run scheduled for at unless another replica
// already took it, and reports whether this one ran it. The run's row
// records who ran it, when it ended and its error.
func (d *Despachador) EjecutarProgramada(ctx context.Context, t Tarea, at time.Time) (bool, error) {
	row, err := d.db.Client.TareaEjecucion.Create().
		SetTarea(t.Nombre).
		SetProgramadaPara(at.UTC()).
		SetReplica(d.id).
		SetIniciadaEn(d.clock.Now()).
		Save(ctx)
	if database.IsUniqueViolation(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	runErr := t.Ejecutar(ctx)
	up := row.Update().SetTerminadaEn(d.clock.Now())
	if runErr != nil {
		up.SetError(truncar(runErr.Error(), 1000))
	}
	if err := up.Exec(context.WithoutCancel(ctx)); err != nil {
		d.log.Error("registrar ejecución programada", "tarea", t.Nombre, "error", err)
	}
	return true, runErr
}

func (d *Despachador) ejecutarProgramada(ctx context.Context, t Tarea, at time.Time) {
	ran, err := d.EjecutarProgramada(ctx, t, at)
	switch {
	case err != nil:
		d.log.Error("tarea programada", "tarea", t.Nombre, "programada_para", at, "replica", d.id, "error", err)
	case ran:
		d.log.Info("tarea programada ejecutada", "tarea", t.Nombre, "programada_para", at, "replica", d.id)
	}
}
