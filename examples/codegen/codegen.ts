// graphql-codegen's configuration: TypeScript types for the API's schema and
// for the operations in operaciones.graphql, from the public SDL that
// `factoring schema` prints (run.sh writes it to schema.graphql).
import type { CodegenConfig } from '@graphql-codegen/cli';

// How each custom scalar travels in JSON, and so its TypeScript type. Money
// is a string with two decimals, never a number: a JavaScript number would
// round it.
const scalars = {
  Decimal: 'string', // "298000.00"
  Date: 'string', // "2026-03-31"
  Time: 'string', // RFC 3339, UTC: "2026-11-30T14:05:00.123456Z"
  Cursor: 'string', // opaque
  JSON: 'Record<string, unknown>', // an event's detalle
};

const config: CodegenConfig = {
  schema: 'schema.graphql',
  documents: ['operaciones.graphql'],
  generates: {
    'generated/graphql.ts': {
      plugins: ['typescript', 'typescript-operations'],
      config: {
        scalars,
        // A scalar missing from the map above is an error, not `any`.
        strictScalars: true,
        enumsAsTypes: true,
        avoidOptionals: { field: true },
      },
    },
  },
};

export default config;
