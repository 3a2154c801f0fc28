// Package baseline is the benchmark's raw-SQL limit: the work of each API
// scenario done by hand with pgx, in process, with no GraphQL, no HTTP and
// no ent. It reads the same rows and takes the same locks and writes as
// the API (the services' lock order: cliente, deudores by id, operación,
// facturas by id), in
// the fewest statements and round trips plain SQL allows, and builds and
// encodes the same JSON the API would answer. The API's throughput divided
// by the baseline's is the benchmark's headline figure.
//
// Every statement it sends is counted (Statements), as the server counts
// the statements ent sends; BEGIN and COMMIT are not counted on either side.
package baseline

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/shopspring/decimal"

	"github.com/banpro/factoring/internal/clock"
	"github.com/banpro/factoring/internal/eventos"
	"github.com/banpro/factoring/internal/gid"
	"github.com/banpro/factoring/internal/money"
)

// Baseline runs the scenarios over a pgx pool.
type Baseline struct {
	pool  *pgxpool.Pool
	tasa  decimal.Decimal
	loc   *time.Location
	clock clock.Clock
	stmts atomic.Int64
}

// New returns a baseline over pool, pricing operaciones at tasa percent
// with "today" in loc, as the server is configured.
func New(pool *pgxpool.Pool, tasa decimal.Decimal, loc *time.Location) *Baseline {
	return &Baseline{pool: pool, tasa: tasa, loc: loc, clock: clock.System{}}
}

// SetClock makes the mutations read c instead of the system clock (tests).
func (b *Baseline) SetClock(c clock.Clock) { b.clock = c }

// Statements returns the SQL statements sent so far.
func (b *Baseline) Statements() int64 { return b.stmts.Load() }

// Errors a mutation reports, as the API's VALIDATION_ERROR fields.
var (
	ErrLineaDisponible = errors.New("VALIDATION_ERROR lineaDisponible: la línea disponible no cubre el monto")
	ErrFacturas        = errors.New("VALIDATION_ERROR facturaIds: facturas inexistentes, ajenas, no DISPONIBLE o vencidas")
	ErrCliente         = errors.New("VALIDATION_ERROR clienteId: el cliente no está ACTIVO")
	ErrEstado          = errors.New("CONFLICT: la operación no está PENDIENTE")
	ErrCuatroOjos      = errors.New("FORBIDDEN: quien creó la operación no puede aprobarla")
	// ErrLimites: a deudor of the operación has a lineaExposicion, or its
	// cliente a concentracionMaxima below 100 %. The API then reads the
	// exposures and checks them; the baseline does not implement those
	// reads (the benchmark's data sets no limit, and the API reads none
	// without one), and says so instead of approving unchecked.
	ErrLimites = errors.New("baseline: límites de riesgo (lineaExposicion, concentracionMaxima) no implementados")
)

// encolar appends to batch the integration event the API's audit entry
// enqueues in the same transaction (internal/eventos: the outbox row, its
// CloudEvents envelope with data as eventos.Operacion renders it, and the
// NOTIFY that wakes the dispatcher): two statements.
func encolar(batch *pgx.Batch, tipo eventos.Tipo, opID int, datos map[string]any, now time.Time, requestID string) error {
	sobre, err := eventos.Envolver(eventos.Event{Tipo: tipo, Sujeto: gid.Encode(opID), Datos: datos, Fecha: now}, requestID, now)
	if err != nil {
		return err
	}
	cuerpo, err := json.Marshal(sobre)
	if err != nil {
		return err
	}
	batch.Queue(`INSERT INTO outbox_eventos (cuerpo, evento_id, fecha, request_id, sujeto, tipo) VALUES ($1, $2, $3, $4, $5, $6)`,
		string(cuerpo), sobre.ID, sobre.Time, requestID, sobre.Subject, string(sobre.Type))
	batch.Queue(`NOTIFY ` + eventos.CanalNotificacion)
	return nil
}

// datosOperacion is the integration event's data about an operación, as
// eventos.Operacion renders it (no liquidación, no motivo de rechazo).
func datosOperacion(opID, clienteID int, estado string, total, tasa decimal.Decimal, dias int, descuento, desembolso, pct, anticipado, comision, tasaMora decimal.Decimal, facturaIDs []int64) map[string]any {
	return map[string]any{
		"operacion_id":         gid.Encode(opID),
		"cliente_id":           gid.Encode(clienteID),
		"estado":               estado,
		"monto_total_facturas": money.String(total),
		"tasa_descuento":       money.String(tasa),
		"dias_descuento":       dias,
		"monto_descuento":      money.String(descuento),
		"monto_a_desembolsar":  money.String(desembolso),
		"factura_ids":          gid.EncodeAll(toInts(facturaIDs)),
		"porcentaje_anticipo":  money.String(pct),
		"monto_anticipado":     money.String(anticipado),
		"comision":             money.String(comision),
		"excedente":            money.String(total.Sub(anticipado)),
		"tasa_mora":            money.String(tasaMora),
	}
}

var (
	cienPct = decimal.NewFromInt(100)
	cero    = decimal.Zero
)

// The JSON the API answers: connections with edges and nodes.
type (
	pageInfo struct {
		HasNextPage bool    `json:"hasNextPage"`
		EndCursor   *string `json:"endCursor"`
	}
	edge[T any] struct {
		Node T `json:"node"`
	}
	connection[T any] struct {
		TotalCount *int      `json:"totalCount,omitempty"`
		Edges      []edge[T] `json:"edges"`
		PageInfo   *pageInfo `json:"pageInfo,omitempty"`
	}
	envelope struct {
		Data any `json:"data"`
	}
)

// encode renders the response body the API would send for data.
func encode(data any) ([]byte, error) {
	return json.Marshal(envelope{Data: data})
}

// cursor is an opaque page cursor over (creadoEn, id), as entgql's.
func cursor(id int, t time.Time) *string {
	s := base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(id) + "|" + t.Format(time.RFC3339Nano)))
	return &s
}

// Q1 ---------------------------------------------------------------------

type clienteQ1 struct {
	ID              string `json:"id"`
	Rut             string `json:"rut"`
	RazonSocial     string `json:"razonSocial"`
	LineaDisponible string `json:"lineaDisponible"`
}

// Q1 is `clientes(first: n) { edges { node { id rut razonSocial
// lineaDisponible } } pageInfo { hasNextPage endCursor } }`: one statement.
func (b *Baseline) Q1(ctx context.Context, n int) ([]byte, error) {
	b.stmts.Add(1)
	rows, err := b.pool.Query(ctx, `SELECT id, rut, razon_social, linea_disponible::text, creado_en
		FROM clientes ORDER BY creado_en DESC, id DESC LIMIT $1`, n+1)
	if err != nil {
		return nil, err
	}
	page := connection[clienteQ1]{Edges: make([]edge[clienteQ1], 0, n), PageInfo: &pageInfo{}}
	var (
		id      int
		c       clienteQ1
		creado  time.Time
		lastID  int
		lastAt  time.Time
		fetched int
	)
	_, err = pgx.ForEachRow(rows, []any{&id, &c.Rut, &c.RazonSocial, &c.LineaDisponible, &creado}, func() error {
		fetched++
		if fetched > n {
			page.PageInfo.HasNextPage = true
			return nil
		}
		c.ID = gid.Encode(id)
		page.Edges = append(page.Edges, edge[clienteQ1]{Node: c})
		lastID, lastAt = id, creado
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(page.Edges) > 0 {
		page.PageInfo.EndCursor = cursor(lastID, lastAt)
	}
	return encode(map[string]any{"clientes": page})
}

// Q2 ---------------------------------------------------------------------

type (
	operacionQ2 struct {
		ID                 string    `json:"id"`
		Estado             string    `json:"estado"`
		MontoTotalFacturas string    `json:"montoTotalFacturas"`
		MontoDescuento     string    `json:"montoDescuento"`
		MontoADesembolsar  string    `json:"montoADesembolsar"`
		FechaSolicitud     time.Time `json:"fechaSolicitud"`
	}
	facturaQ2 struct {
		ID               string                  `json:"id"`
		NumeroFactura    string                  `json:"numeroFactura"`
		MontoTotal       string                  `json:"montoTotal"`
		Estado           string                  `json:"estado"`
		FechaVencimiento string                  `json:"fechaVencimiento"`
		Operaciones      connection[operacionQ2] `json:"operaciones"`
	}
	clienteQ2 struct {
		ID              string                `json:"id"`
		Rut             string                `json:"rut"`
		RazonSocial     string                `json:"razonSocial"`
		Estado          string                `json:"estado"`
		LineaDisponible string                `json:"lineaDisponible"`
		Facturas        connection[facturaQ2] `json:"facturas"`
	}
)

// Q2 is the frontend page: the newest clientes (first), each with its
// newest facturas (perCliente), each with its operaciones (default page,
// 50), and totalCount of clientes when withTotal. Three statements (four
// with the count), one per level, with LATERAL joins doing the per-parent
// limits on the indexes.
func (b *Baseline) Q2(ctx context.Context, first, perCliente int, withTotal bool) ([]byte, error) {
	const perFactura = 50
	b.stmts.Add(1)
	rows, err := b.pool.Query(ctx, `SELECT id, rut, razon_social, estado, linea_disponible::text, creado_en
		FROM clientes ORDER BY creado_en DESC, id DESC LIMIT $1`, first+1)
	if err != nil {
		return nil, err
	}
	var (
		clientes  = make([]*clienteQ2, 0, first)
		ids       = make([]int64, 0, first)
		id        int
		c         clienteQ2
		creado    time.Time
		page      = connection[*clienteQ2]{PageInfo: &pageInfo{}}
		lastID    int
		lastAt    time.Time
		clienteBy = make(map[int64]*clienteQ2, first)
	)
	_, err = pgx.ForEachRow(rows, []any{&id, &c.Rut, &c.RazonSocial, &c.Estado, &c.LineaDisponible, &creado}, func() error {
		if len(clientes) == first {
			page.PageInfo.HasNextPage = true
			return nil
		}
		cc := c
		cc.ID = gid.Encode(id)
		cc.Facturas.Edges = make([]edge[facturaQ2], 0, perCliente)
		clientes = append(clientes, &cc)
		ids = append(ids, int64(id))
		clienteBy[int64(id)] = &cc
		lastID, lastAt = id, creado
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(clientes) > 0 {
		page.PageInfo.EndCursor = cursor(lastID, lastAt)
	}

	b.stmts.Add(1)
	rows, err = b.pool.Query(ctx, `SELECT f.cliente_id, f.id, f.numero_factura, f.monto_total::text, f.estado, f.fecha_vencimiento::text
		FROM unnest($1::bigint[]) WITH ORDINALITY AS p(id, ord)
		CROSS JOIN LATERAL (
			SELECT * FROM facturas WHERE cliente_id = p.id ORDER BY creado_en DESC, id DESC LIMIT $2
		) f
		ORDER BY p.ord, f.creado_en DESC, f.id DESC`, ids, perCliente)
	if err != nil {
		return nil, err
	}
	type facturaRef struct {
		cliente *clienteQ2
		index   int
	}
	var (
		clienteID int64
		f         facturaQ2
		fids      = make([]int64, 0, first*perCliente)
		facturaBy = make(map[int64]facturaRef, first*perCliente)
	)
	_, err = pgx.ForEachRow(rows, []any{&clienteID, &id, &f.NumeroFactura, &f.MontoTotal, &f.Estado, &f.FechaVencimiento}, func() error {
		parent := clienteBy[clienteID]
		ff := f
		ff.ID = gid.Encode(id)
		ff.Operaciones.Edges = []edge[operacionQ2]{}
		parent.Facturas.Edges = append(parent.Facturas.Edges, edge[facturaQ2]{Node: ff})
		fids = append(fids, int64(id))
		facturaBy[int64(id)] = facturaRef{parent, len(parent.Facturas.Edges) - 1}
		return nil
	})
	if err != nil {
		return nil, err
	}

	b.stmts.Add(1)
	rows, err = b.pool.Query(ctx, `SELECT p.id, o.id, o.estado, o.monto_total_facturas::text, o.monto_descuento::text,
			o.monto_a_desembolsar::text, o.fecha_solicitud
		FROM unnest($1::bigint[]) WITH ORDINALITY AS p(id, ord)
		CROSS JOIN LATERAL (
			SELECT o.* FROM operacion_facturas l JOIN operaciones o ON o.id = l.operacion_id
			WHERE l.factura_id = p.id ORDER BY o.fecha_solicitud DESC, o.id DESC LIMIT $2
		) o
		ORDER BY p.ord, o.fecha_solicitud DESC, o.id DESC`, fids, perFactura)
	if err != nil {
		return nil, err
	}
	var (
		facturaID int64
		o         operacionQ2
	)
	_, err = pgx.ForEachRow(rows, []any{&facturaID, &id, &o.Estado, &o.MontoTotalFacturas, &o.MontoDescuento, &o.MontoADesembolsar, &o.FechaSolicitud}, func() error {
		ref := facturaBy[facturaID]
		oo := o
		oo.ID = gid.Encode(id)
		node := &ref.cliente.Facturas.Edges[ref.index].Node
		node.Operaciones.Edges = append(node.Operaciones.Edges, edge[operacionQ2]{Node: oo})
		return nil
	})
	if err != nil {
		return nil, err
	}

	if withTotal {
		var total int
		b.stmts.Add(1)
		if err := b.pool.QueryRow(ctx, `SELECT count(*) FROM clientes`).Scan(&total); err != nil {
			return nil, err
		}
		page.TotalCount = &total
	}
	page.Edges = make([]edge[*clienteQ2], len(clientes))
	for i, c := range clientes {
		page.Edges[i].Node = c
	}
	return encode(map[string]any{"clientes": page})
}

// Q3 ---------------------------------------------------------------------

type (
	clienteQ3 struct {
		ID              string `json:"id"`
		Rut             string `json:"rut"`
		RazonSocial     string `json:"razonSocial"`
		LineaDisponible string `json:"lineaDisponible"`
	}
	facturaQ3 struct {
		ID               string `json:"id"`
		NumeroFactura    string `json:"numeroFactura"`
		RutDeudor        string `json:"rutDeudor"`
		MontoTotal       string `json:"montoTotal"`
		FechaVencimiento string `json:"fechaVencimiento"`
		Estado           string `json:"estado"`
	}
	eventoQ3 struct {
		ID             string          `json:"id"`
		Tipo           string          `json:"tipo"`
		Fecha          time.Time       `json:"fecha"`
		EstadoAnterior *string         `json:"estadoAnterior"`
		EstadoNuevo    string          `json:"estadoNuevo"`
		RequestID      string          `json:"requestId"`
		Actor          string          `json:"actor"`
		Detalle        json.RawMessage `json:"detalle"`
	}
	operacionQ3 struct {
		ID                 string                `json:"id"`
		Estado             string                `json:"estado"`
		FechaSolicitud     time.Time             `json:"fechaSolicitud"`
		FechaAprobacion    *time.Time            `json:"fechaAprobacion"`
		MontoTotalFacturas string                `json:"montoTotalFacturas"`
		TasaDescuento      string                `json:"tasaDescuento"`
		DiasDescuento      int                   `json:"diasDescuento"`
		MontoDescuento     string                `json:"montoDescuento"`
		MontoADesembolsar  string                `json:"montoADesembolsar"`
		Cliente            clienteQ3             `json:"cliente"`
		Facturas           connection[facturaQ3] `json:"facturas"`
		Eventos            connection[eventoQ3]  `json:"eventos"`
	}
)

// Q3 is one operación with its cliente, facturas and eventos: three
// statements (the operación joined with its cliente, its facturas, its
// events, each connection's default page of 50) sent in one round trip.
func (b *Baseline) Q3(ctx context.Context, id int) ([]byte, error) {
	const page = 50
	batch := &pgx.Batch{}
	var (
		op    operacionQ3
		opID  int
		cliID int
	)
	batch.Queue(`SELECT o.id, o.estado, o.fecha_solicitud, o.fecha_aprobacion, o.monto_total_facturas::text,
			o.tasa_descuento::text, o.dias_descuento, o.monto_descuento::text, o.monto_a_desembolsar::text,
			c.id, c.rut, c.razon_social, c.linea_disponible::text
		FROM operaciones o JOIN clientes c ON c.id = o.cliente_id WHERE o.id = $1`, id).QueryRow(func(row pgx.Row) error {
		return row.Scan(&opID, &op.Estado, &op.FechaSolicitud, &op.FechaAprobacion, &op.MontoTotalFacturas,
			&op.TasaDescuento, &op.DiasDescuento, &op.MontoDescuento, &op.MontoADesembolsar,
			&cliID, &op.Cliente.Rut, &op.Cliente.RazonSocial, &op.Cliente.LineaDisponible)
	})
	op.Facturas.Edges = make([]edge[facturaQ3], 0, 5)
	batch.Queue(`SELECT f.id, f.numero_factura, f.rut_deudor, f.monto_total::text, f.fecha_vencimiento::text, f.estado
		FROM operacion_facturas l JOIN facturas f ON f.id = l.factura_id
		WHERE l.operacion_id = $1 ORDER BY f.creado_en DESC, f.id DESC LIMIT $2`, id, page).Query(func(rows pgx.Rows) error {
		var (
			fid int
			f   facturaQ3
		)
		_, err := pgx.ForEachRow(rows, []any{&fid, &f.NumeroFactura, &f.RutDeudor, &f.MontoTotal, &f.FechaVencimiento, &f.Estado}, func() error {
			f.ID = gid.Encode(fid)
			op.Facturas.Edges = append(op.Facturas.Edges, edge[facturaQ3]{Node: f})
			return nil
		})
		return err
	})
	op.Eventos.Edges = make([]edge[eventoQ3], 0, 4)
	batch.Queue(`SELECT id, tipo, fecha, estado_anterior, estado_nuevo, request_id, actor, detalle
		FROM operacion_eventos WHERE operacion_id = $1 ORDER BY fecha, id LIMIT $2`, id, page).Query(func(rows pgx.Rows) error {
		var (
			eid int
			e   eventoQ3
		)
		_, err := pgx.ForEachRow(rows, []any{&eid, &e.Tipo, &e.Fecha, &e.EstadoAnterior, &e.EstadoNuevo, &e.RequestID, &e.Actor, &e.Detalle}, func() error {
			ee := e
			ee.ID = gid.Encode(eid)
			ee.Detalle = slices.Clone(e.Detalle)
			e.EstadoAnterior = nil // the next row must not write through this one's pointer
			op.Eventos.Edges = append(op.Eventos.Edges, edge[eventoQ3]{Node: ee})
			return nil
		})
		return err
	})
	b.stmts.Add(int64(batch.Len()))
	if err := b.pool.SendBatch(ctx, batch).Close(); err != nil {
		return nil, err
	}
	op.ID, op.Cliente.ID = gid.Encode(opID), gid.Encode(cliID)
	return encode(map[string]any{"operacion": op})
}

// F+tc -------------------------------------------------------------------

type facturaF struct {
	ID            string `json:"id"`
	NumeroFactura string `json:"numeroFactura"`
	MontoTotal    string `json:"montoTotal"`
	Estado        string `json:"estado"`
}

// FacturasTotalCount is `facturas(first: n, where: {estado: e}) {
// totalCount edges { node { id numeroFactura montoTotal estado } } }`: the
// count of the facturas in that state and their newest n, two statements
// in one round trip.
func (b *Baseline) FacturasTotalCount(ctx context.Context, n int, estado string) ([]byte, error) {
	var total int
	page := connection[facturaF]{TotalCount: &total, Edges: make([]edge[facturaF], 0, n)}
	batch := &pgx.Batch{}
	batch.Queue(`SELECT count(*) FROM facturas WHERE estado = $1`, estado).QueryRow(func(row pgx.Row) error {
		return row.Scan(&total)
	})
	batch.Queue(`SELECT id, numero_factura, monto_total::text, estado FROM facturas
		WHERE estado = $1 ORDER BY creado_en DESC, id DESC LIMIT $2`, estado, n).Query(func(rows pgx.Rows) error {
		var (
			id int
			f  facturaF
		)
		_, err := pgx.ForEachRow(rows, []any{&id, &f.NumeroFactura, &f.MontoTotal, &f.Estado}, func() error {
			f.ID = gid.Encode(id)
			page.Edges = append(page.Edges, edge[facturaF]{Node: f})
			return nil
		})
		return err
	})
	b.stmts.Add(int64(batch.Len()))
	if err := b.pool.SendBatch(ctx, batch).Close(); err != nil {
		return nil, err
	}
	return encode(map[string]any{"facturas": page})
}

// M1 ---------------------------------------------------------------------

// Creada is what crearOperacion answers.
type Creada struct {
	ID                 string `json:"id"`
	Estado             string `json:"estado"`
	MontoTotalFacturas string `json:"montoTotalFacturas"`
	MontoDescuento     string `json:"montoDescuento"`
	MontoADesembolsar  string `json:"montoADesembolsar"`
	dbID               int
}

// DBID is the operación's database id.
func (c Creada) DBID() int { return c.dbID }

// Crear is crearOperacion: in one transaction it locks the cliente, the
// deudores of the facturas by id, then the facturas by id, checks the
// services' rules (cliente ACTIVO; facturas of the cliente, DISPONIBLE, not
// overdue, without payments, not RECLAMADA, of no BLOQUEADO deudor), prices
// the discount, inserts the operación, and then, in one round trip, its
// links, the facturas' new state, the CREADA event, the audit entry and the
// integration event (outbox row and NOTIFY). actor and requestID go into
// the events.
func (b *Baseline) Crear(ctx context.Context, clienteID int, facturaIDs []int, actor, requestID string) (Creada, error) {
	ids := make([]int64, len(facturaIDs))
	for i, id := range facturaIDs {
		ids[i] = int64(id)
	}
	slices.Sort(ids)
	var out Creada
	err := b.inTx(ctx, func(tx pgx.Tx) error {
		var estadoCliente string
		b.stmts.Add(1)
		if err := tx.QueryRow(ctx, `SELECT estado FROM clientes WHERE id = $1 FOR UPDATE`, clienteID).Scan(&estadoCliente); err != nil {
			return fmt.Errorf("cliente %d: %w", clienteID, err)
		}
		if estadoCliente != "ACTIVO" {
			return ErrCliente
		}
		// Which deudores and their lock in one statement (the API reads
		// the ids, then locks).
		bloqueados, _, err := b.lockDeudores(ctx, tx, `SELECT DISTINCT deudor_id FROM facturas WHERE id = ANY($1)`, ids)
		if err != nil {
			return err
		}
		b.stmts.Add(1)
		rows, err := tx.Query(ctx, `SELECT id, cliente_id, deudor_id, estado, estado_acuse, monto_total::text, monto_pagado > 0, fecha_vencimiento
			FROM facturas WHERE id = ANY($1) ORDER BY id FOR UPDATE`, ids)
		if err != nil {
			return err
		}
		var (
			n                         int
			fid, cid, did             int
			festado, acuse, montoText string
			pagada                    bool
			venc, ultimo              time.Time
			total                     = decimal.Zero
			hoy                       = clock.Today(b.clock.Now(), b.loc)
			problema                  bool
		)
		_, err = pgx.ForEachRow(rows, []any{&fid, &cid, &did, &festado, &acuse, &montoText, &pagada, &venc}, func() error {
			n++
			if cid != clienteID || festado != "DISPONIBLE" || venc.Before(hoy) || pagada || acuse == "RECLAMADA" || bloqueados[did] {
				problema = true
			}
			m, err := decimal.NewFromString(montoText)
			if err != nil {
				return err
			}
			total = total.Add(m)
			if venc.After(ultimo) {
				ultimo = venc
			}
			return nil
		})
		if err != nil {
			return err
		}
		if problema || n != len(ids) || !total.IsPositive() {
			return ErrFacturas
		}
		dias := clock.DaysBetween(hoy, ultimo)
		descuento := money.Descuento(total, b.tasa, dias)
		desembolso := total.Sub(descuento)
		now := b.clock.Now()
		var opID int
		b.stmts.Add(1)
		if err := tx.QueryRow(ctx, `INSERT INTO operaciones (fecha_solicitud, monto_total_facturas, tasa_descuento,
				dias_descuento, monto_descuento, monto_a_desembolsar, estado, porcentaje_anticipo, comision, tasa_mora,
			creado_en, actualizado_en, cliente_id)
			VALUES ($1, $2, $3, $4, $5, $6, 'PENDIENTE', 100, 0, 0, $1, $1, $7) RETURNING id`,
			now, total.StringFixed(2), b.tasa.StringFixed(2), dias, descuento.StringFixed(2), desembolso.StringFixed(2), clienteID,
		).Scan(&opID); err != nil {
			return err
		}
		detalle, err := json.Marshal(map[string]any{
			"facturaIds":         gid.EncodeAll(toInts(ids)),
			"montoTotalFacturas": money.String(total),
			"tasaDescuento":      money.String(b.tasa),
			"diasDescuento":      dias,
			"montoDescuento":     money.String(descuento),
			"montoADesembolsar":  money.String(desembolso),
			// The advance at the defaults the baseline prices at, as
			// the columns' defaults record it: the whole face value, no
			// commission, no late interest.
			"porcentajeAnticipo": "100.00",
			"montoAnticipado":    money.String(total),
			"comision":           "0.00",
			"excedente":          "0.00",
			"tasaMora":           "0.00",
		})
		if err != nil {
			return err
		}
		batch := &pgx.Batch{}
		batch.Queue(`INSERT INTO operacion_facturas (operacion_id, factura_id) SELECT $1, unnest($2::bigint[])`, opID, ids)
		batch.Queue(`UPDATE facturas SET estado = 'EN_PROCESO', actualizado_en = $2 WHERE id = ANY($1)`, ids, now)
		batch.Queue(`INSERT INTO operacion_eventos (tipo, fecha, estado_anterior, estado_nuevo, request_id, actor, detalle, operacion_id)
			VALUES ('CREADA', $1, NULL, 'PENDIENTE', $2, $3, $4, $5)`, now, requestID, actor, detalle, opID)
		// The audit entry the API writes beside the event (its detalle here
		// is the event's, without the field-by-field changes).
		batch.Queue(`INSERT INTO eventos_auditoria (entidad, entidad_id, operacion_id, tipo, fecha, estado_anterior, estado_nuevo, request_id, actor, detalle)
			VALUES ('OPERACION', $5, $5, 'OPERACION_CREADA', $1, NULL, 'PENDIENTE', $2, $3, $4)`, now, requestID, actor, detalle, opID)
		if err := encolar(batch, eventos.OperacionCreada, opID, datosOperacion(opID, clienteID, "PENDIENTE", total, b.tasa, dias,
			descuento, desembolso, cienPct, total, cero, cero, ids), now, requestID); err != nil {
			return err
		}
		b.stmts.Add(int64(batch.Len()))
		if err := tx.SendBatch(ctx, batch).Close(); err != nil {
			return err
		}
		out = Creada{ID: gid.Encode(opID), Estado: "PENDIENTE", MontoTotalFacturas: money.String(total),
			MontoDescuento: money.String(descuento), MontoADesembolsar: money.String(desembolso), dbID: opID}
		return nil
	})
	if err != nil {
		return Creada{}, err
	}
	_, err = encode(map[string]any{"crearOperacion": out})
	return out, err
}

// Aprobada is what aprobarOperacion answers.
type Aprobada struct {
	ID              string    `json:"id"`
	Estado          string    `json:"estado"`
	FechaAprobacion time.Time `json:"fechaAprobacion"`
	Cliente         struct {
		ID              string `json:"id"`
		LineaDisponible string `json:"lineaDisponible"`
	} `json:"cliente"`
}

// Aprobar is aprobarOperacion: in one transaction it locks the operación's
// cliente, the deudores of its facturas by id, the operación and its
// facturas by id, reads who created it (four eyes: actor may not be its
// creator), checks the rules (PENDIENTE; cliente ACTIVO; facturas
// EN_PROCESO, not overdue, not RECLAMADA, of no BLOQUEADO deudor; the line
// covers the total; no risk limit set, see ErrLimites), and then, in one
// round trip, takes the line, cedes the facturas, approves the operación
// and appends the APROBADA event, the audit entry and the integration event
// (outbox row and NOTIFY).
func (b *Baseline) Aprobar(ctx context.Context, opID int, actor, requestID string) (Aprobada, error) {
	var out Aprobada
	err := b.inTx(ctx, func(tx pgx.Tx) error {
		var (
			clienteID                int
			estadoCliente, lineaText string
			conTope                  bool
		)
		// The API reads the operación's cliente, then locks it: one
		// statement here.
		b.stmts.Add(1)
		if err := tx.QueryRow(ctx, `SELECT id, estado, linea_disponible::text, coalesce(concentracion_maxima < 100, false) FROM clientes
			WHERE id = (SELECT cliente_id FROM operaciones WHERE id = $1) FOR UPDATE`, opID).Scan(&clienteID, &estadoCliente, &lineaText, &conTope); err != nil {
			return fmt.Errorf("operación %d: %w", opID, err)
		}
		bloqueados, conLinea, err := b.lockDeudores(ctx, tx, `SELECT DISTINCT f.deudor_id FROM facturas f
			JOIN operacion_facturas l ON l.factura_id = f.id WHERE l.operacion_id = $1`, opID)
		if err != nil {
			return err
		}
		var (
			estadoOp                           string
			total, tasa, descuento, desembolso decimal.Decimal
			pct, comision, tasaMora            decimal.Decimal
			dias                               int
		)
		b.stmts.Add(1)
		var montos [7]string
		if err := tx.QueryRow(ctx, `SELECT estado, dias_descuento, monto_total_facturas::text, tasa_descuento::text, monto_descuento::text,
				monto_a_desembolsar::text, porcentaje_anticipo::text, comision::text, tasa_mora::text
			FROM operaciones WHERE id = $1 FOR UPDATE`, opID).Scan(&estadoOp, &dias, &montos[0], &montos[1], &montos[2],
			&montos[3], &montos[4], &montos[5], &montos[6]); err != nil {
			return err
		}
		for i, d := range []*decimal.Decimal{&total, &tasa, &descuento, &desembolso, &pct, &comision, &tasaMora} {
			if *d, err = decimal.NewFromString(montos[i]); err != nil {
				return err
			}
		}
		if estadoOp != "PENDIENTE" {
			return ErrEstado
		}
		b.stmts.Add(1)
		rows, err := tx.Query(ctx, `SELECT f.id, f.deudor_id, f.estado, f.estado_acuse, f.fecha_vencimiento
			FROM facturas f JOIN operacion_facturas l ON l.factura_id = f.id
			WHERE l.operacion_id = $1 ORDER BY f.id FOR UPDATE OF f`, opID)
		if err != nil {
			return err
		}
		var (
			ids            []int64
			fid            int64
			did            int
			festado, acuse string
			venc           time.Time
			hoy            = clock.Today(b.clock.Now(), b.loc)
			problema       bool
		)
		_, err = pgx.ForEachRow(rows, []any{&fid, &did, &festado, &acuse, &venc}, func() error {
			ids = append(ids, fid)
			if festado != "EN_PROCESO" || venc.Before(hoy) || acuse == "RECLAMADA" || bloqueados[did] {
				problema = true
			}
			return nil
		})
		if err != nil {
			return err
		}
		// Four eyes, as the API with authentication required (the
		// benchmark's server): the CREADA event's actor.
		var creador string
		b.stmts.Add(1)
		if err := tx.QueryRow(ctx, `SELECT actor FROM operacion_eventos WHERE operacion_id = $1 AND tipo = 'CREADA'`, opID).Scan(&creador); err != nil {
			return fmt.Errorf("leer quién creó la operación %d: %w", opID, err)
		}
		if creador == actor {
			return ErrCuatroOjos
		}
		if estadoCliente != "ACTIVO" {
			return ErrCliente
		}
		if problema {
			return ErrFacturas
		}
		if conLinea || conTope {
			return ErrLimites
		}
		anterior, err := decimal.NewFromString(lineaText)
		if err != nil {
			return err
		}
		anticipado := money.Anticipo(total, pct)
		if anticipado.GreaterThan(anterior) {
			return ErrLineaDisponible
		}
		nueva := anterior.Sub(anticipado)
		now := b.clock.Now()
		detalle, err := json.Marshal(map[string]any{
			"facturaIds":              gid.EncodeAll(toInts(ids)),
			"lineaDisponibleAnterior": money.String(anterior),
			"lineaDisponibleNueva":    money.String(nueva),
		})
		if err != nil {
			return err
		}
		batch := &pgx.Batch{}
		batch.Queue(`UPDATE clientes SET linea_disponible = $2, actualizado_en = $3 WHERE id = $1`, clienteID, nueva.StringFixed(2), now)
		batch.Queue(`UPDATE facturas SET estado = 'CEDIDA', actualizado_en = $2 WHERE id = ANY($1)`, ids, now)
		batch.Queue(`UPDATE operaciones SET estado = 'APROBADA', fecha_aprobacion = $2, actualizado_en = $2 WHERE id = $1`, opID, now)
		batch.Queue(`INSERT INTO operacion_eventos (tipo, fecha, estado_anterior, estado_nuevo, request_id, actor, detalle, operacion_id)
			VALUES ('APROBADA', $1, 'PENDIENTE', 'APROBADA', $2, $3, $4, $5)`, now, requestID, actor, detalle, opID)
		batch.Queue(`INSERT INTO eventos_auditoria (entidad, entidad_id, operacion_id, tipo, fecha, estado_anterior, estado_nuevo, request_id, actor, detalle)
			VALUES ('OPERACION', $5, $5, 'OPERACION_APROBADA', $1, 'PENDIENTE', 'APROBADA', $2, $3, $4)`, now, requestID, actor, detalle, opID)
		if err := encolar(batch, eventos.OperacionAprobada, opID, datosOperacion(opID, clienteID, "APROBADA", total, tasa, dias,
			descuento, desembolso, pct, anticipado, comision, tasaMora, ids), now, requestID); err != nil {
			return err
		}
		b.stmts.Add(int64(batch.Len()))
		if err := tx.SendBatch(ctx, batch).Close(); err != nil {
			return err
		}
		out = Aprobada{ID: gid.Encode(opID), Estado: "APROBADA", FechaAprobacion: now}
		out.Cliente.ID, out.Cliente.LineaDisponible = gid.Encode(clienteID), money.String(nueva)
		return nil
	})
	if err != nil {
		return Aprobada{}, err
	}
	_, err = encode(map[string]any{"aprobarOperacion": out})
	return out, err
}

// lockDeudores locks, in id order, the deudores whose ids the subquery
// sub (over arg) selects, and returns the BLOQUEADO ones and whether any
// has a lineaExposicion: one statement.
func (b *Baseline) lockDeudores(ctx context.Context, tx pgx.Tx, sub string, arg any) (map[int]bool, bool, error) {
	b.stmts.Add(1)
	rows, err := tx.Query(ctx, `SELECT id, estado = 'BLOQUEADO', linea_exposicion IS NOT NULL FROM deudores
		WHERE id IN (`+sub+`) ORDER BY id FOR UPDATE`, arg)
	if err != nil {
		return nil, false, err
	}
	bloqueados := map[int]bool{}
	var (
		id               int
		bloqueado, tiene bool
		conLinea         bool
	)
	_, err = pgx.ForEachRow(rows, []any{&id, &bloqueado, &tiene}, func() error {
		bloqueados[id] = bloqueado
		conLinea = conLinea || tiene
		return nil
	})
	return bloqueados, conLinea, err
}

// inTx runs fn in a transaction, retrying a serialization failure or a
// deadlock up to 5 times, as the API's WithTx does.
func (b *Baseline) inTx(ctx context.Context, fn func(pgx.Tx) error) error {
	for attempt := 1; ; attempt++ {
		err := pgx.BeginFunc(ctx, b.pool, fn)
		var pgErr *pgconn.PgError
		if err == nil || !errors.As(err, &pgErr) || (pgErr.Code != "40001" && pgErr.Code != "40P01") || attempt == 5 {
			return err
		}
		time.Sleep(time.Duration(attempt*attempt)*5*time.Millisecond + rand.N(10*time.Millisecond))
	}
}

func toInts(ids []int64) []int {
	out := make([]int, len(ids))
	for i, id := range ids {
		out[i] = int(id)
	}
	return out
}
