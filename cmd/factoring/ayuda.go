package main

import (
	"flag"
	"fmt"
	"strings"
)

// ayuda is what `factoring <comando> -h` prints about one command.
type ayuda struct {
	sintaxis    string
	descripcion string
	ejemplo     string
}

// ayudas documents every command; newFlagSet builds its usage from here.
var ayudas = map[string]ayuda{
	"serve": {
		sintaxis: "serve [--migrate] [--seed] [--addr :8080]",
		descripcion: `Sirve la API GraphQL por HTTP (/graphql, /playground, /schema.graphql, /healthz,
/readyz) sobre la base de datos de FACTORING_DATABASE_URL. En SQLite aplica antes las
migraciones pendientes; en PostgreSQL, salvo con --migrate, se niega a arrancar si el esquema
está atrasado (ejecute factoring migrate). Con FACTORING_AUTH=required, el valor por omisión,
exige FACTORING_JWT_SECRET o FACTORING_JWT_PUBLIC_KEY_FILE. Las métricas (/metrics) y los
perfiles (/debug/pprof) van en la escucha de administración, FACTORING_ADMIN_ADDR (por omisión
127.0.0.1:9090; off la apaga); las trazas OpenTelemetry se activan con
OTEL_EXPORTER_OTLP_ENDPOINT. Ante SIGINT o SIGTERM deja de aceptar conexiones y espera a que
terminen las solicitudes en curso (hasta 20 s). También despacha los eventos de integración
(webhooks; NATS con FACTORING_NATS_URL; el correo de aprobación con FACTORING_SMTP_URL) y
programa la tarea marcar-vencidas (FACTORING_VENCIDAS_CRON, por omisión 0 6 * * *), salvo con
FACTORING_WORKER=external, que se los deja a factoring worker.`,
		ejemplo: `  FACTORING_AUTH=disabled factoring serve --seed      # la demo local de make run`,
	},
	"worker": {
		sintaxis: "worker",
		descripcion: `Despacha los eventos de integración que las mutaciones dejan en la base de datos: a los
webhooks suscritos (firmados, con reintentos), a NATS JetStream con FACTORING_NATS_URL y por
correo la aprobación de una operación con FACTORING_SMTP_URL; y programa la tarea
marcar-vencidas (FACTORING_VENCIDAS_CRON). No sirve la API: úselo con réplicas de serve
arrancadas con FACTORING_WORKER=external. Pueden correr varios sobre la misma base de datos:
cada evento lo entrega uno de ellos y la tarea diaria corre una sola vez. Las métricas van en
FACTORING_ADMIN_ADDR. Ante SIGINT o SIGTERM espera a que terminen las entregas en curso.`,
		ejemplo: `  FACTORING_WORKER=external factoring serve &   FACTORING_ADMIN_ADDR=127.0.0.1:9091 factoring worker`,
	},
	"migrate": {
		sintaxis: "migrate [status]",
		descripcion: `Aplica las migraciones pendientes del esquema (van dentro del binario) e imprime cada
una; "migrate status" solo lista las aplicadas y las pendientes. En PostgreSQL corre como
dueño del esquema: si la base de datos de FACTORING_DATABASE_URL no existe, la crea (cuando
el usuario puede hacer CREATE DATABASE), y al terminar crea o actualiza el rol con que sirve
la API (FACTORING_DB_SERVING_ROLE, con la contraseña de FACTORING_DB_SERVING_PASSWORD): filas
sí, DDL y cambios a la auditoría no.`,
		ejemplo: `  FACTORING_DATABASE_URL='postgres://postgres@127.0.0.1:5432/factoring?sslmode=disable' \
    FACTORING_DB_SERVING_PASSWORD=cambiar-esto factoring migrate`,
	},
	"seed": {
		sintaxis: "seed [--solo-disponibles]",
		descripcion: `Carga los datos de demostración a través de los servicios del dominio, con sus reglas y su
auditoría: los 4 clientes del sistema original y 3 más, con clientes en cada estado; 14
facturas en todos sus estados; 5 operaciones, una en cada estado, con sus eventos. Las fechas
se cuentan desde hoy: la historia ocurre en los días anteriores y los vencimientos en los
siguientes. Es idempotente: lo que ya existe (un cliente por RUT, una factura por número)
queda como está. Con --solo-disponibles carga los clientes y solo las facturas que aún se
pueden ceder, todas DISPONIBLE, sin operaciones.`,
		ejemplo: `  factoring migrate && factoring seed && factoring verificar`,
	},
	"verificar": {
		sintaxis: "verificar",
		descripcion: `Comprueba las invariantes del dominio sobre toda la base de datos: la línea de crédito de
cada cliente cuadra con sus operaciones APROBADA o DESEMBOLSADA, cada factura está retenida
por a lo más una operación abierta, los eventos de cada operación reproducen su historia,
cada cambio tiene su entrada de auditoría, y cada factura es del deudor de su RUT, cuya
exposición se recalcula desde las facturas.
Imprime cada violación y termina con estado 1 si encuentra alguna, 0 si no.`,
		ejemplo: `  factoring verificar || echo "hay violaciones"`,
	},
	"marcar-vencidas": {
		sintaxis: "marcar-vencidas",
		descripcion: `La tarea diaria de vencimiento: cada factura DISPONIBLE o CEDIDA cuya fecha de vencimiento
ya pasó (según la fecha de hoy en FACTORING_TIMEZONE) queda VENCIDA, con actor "sistema".
Imprime cuántas marcó; ejecutarla de nuevo el mismo día no marca nada. serve y worker ya la
programan (FACTORING_VENCIDAS_CRON, por omisión 0 6 * * * en la zona del negocio, en una sola
réplica); este comando la corre a mano, o desde un programador externo con
FACTORING_VENCIDAS_CRON=off.`,
		ejemplo: `  5 0 * * *  factoring marcar-vencidas      # crontab con CRON_TZ=America/Santiago`,
	},
	"token": {
		sintaxis: "token --sub NOMBRE --roles r1,r2 [--ttl 8h]",
		descripcion: `Imprime un token HS256 firmado con FACTORING_JWT_SECRET (con FACTORING_JWT_ISSUER y
FACTORING_JWT_AUDIENCE cuando están definidos), para uso local y pruebas. El sujeto es quien
actúa y queda como actor en la auditoría; los roles deciden qué puede hacer.`,
		ejemplo: `  factoring token --sub ana --roles analista,lector --ttl 8h`,
	},
	"healthcheck": {
		sintaxis: "healthcheck [--addr HOST:PUERTO] [--timeout 3s]",
		descripcion: `Consulta GET /healthz del servidor en FACTORING_HTTP_ADDR (o en --addr; una dirección sin
host, 0.0.0.0 o [::] se consulta en 127.0.0.1) y termina con estado 0 si responde 200, 1 si
no. Es el chequeo de salud de la imagen Docker, que no trae shell ni curl.`,
		ejemplo: `  HEALTHCHECK CMD ["/factoring", "healthcheck"]      # Dockerfile`,
	},
	"schema": {
		sintaxis: "schema",
		descripcion: `Imprime el esquema GraphQL público de esta versión (SDL): el mismo que sirve
GET /schema.graphql, sin las directivas de generación de código. No lee la configuración ni
abre la base de datos. Sirve para generar tipos de cliente (graphql-codegen, Relay, genqlient)
sin un servidor corriendo.`,
		ejemplo: `  factoring schema > schema.graphql`,
	},
	"version": {
		sintaxis:    "version",
		descripcion: `Imprime la versión y el commit del binario (los fija make build) y la versión de Go.`,
		ejemplo:     `  factoring version`,
	},
}

// usageOf returns the usage function of fs, the flag set of command name.
func usageOf(fs *flag.FlagSet, name string) func() {
	return func() {
		a := ayudas[name]
		out := fs.Output()
		fmt.Fprintf(out, "Uso: factoring %s\n\n%s\n", a.sintaxis, a.descripcion)
		hasFlags := false
		fs.VisitAll(func(*flag.Flag) { hasFlags = true })
		if hasFlags {
			fmt.Fprintln(out, "\nOpciones:")
			fs.PrintDefaults()
		}
		fmt.Fprintf(out, "\nEjemplo:\n%s\n", strings.TrimRight(a.ejemplo, "\n"))
	}
}
