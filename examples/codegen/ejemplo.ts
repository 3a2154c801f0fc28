// Compiles only if the generated types say what the API sends: run.sh runs
// `tsc --noEmit` over it after codegen.
import type {
  CarteraQuery,
  CrearOperacionMutation,
  CrearOperacionMutationVariables,
  EstadoOperacion,
  OperacionQuery,
} from './generated/graphql';

// Decimal is a string with two decimals: never parse it into a number for
// arithmetic on money.
export function disponible(c: CarteraQuery): string[] {
  return c.clientes.edges?.map((e) => e?.node?.lineaDisponible ?? '0.00') ?? [];
}

// JSON is an object; Time and Date are strings.
export function trail(o: OperacionQuery): Array<{ fecha: string; detalle: Record<string, unknown> | null }> {
  return (o.operacion?.eventos.edges ?? []).map((e) => ({
    fecha: e?.node?.fecha ?? '',
    detalle: e?.node?.detalle ?? null,
  }));
}

export const variables: CrearOperacionMutationVariables = { c: 'Q2xpZW50ZTo1', f: 'RmFjdHVyYToxMQ' };

export function estado(r: CrearOperacionMutation): EstadoOperacion {
  const monto: string = r.crearOperacion.montoADesembolsar;
  void monto;
  return r.crearOperacion.estado;
}
