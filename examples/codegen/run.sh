#!/usr/bin/env bash
# Generates TypeScript types for operaciones.graphql from the API's public
# SDL and type-checks ejemplo.ts against them. Needs Go, Node and npm; CI
# runs it (.ci/run) when node and npm exist. From the repository root:
#   examples/codegen/run.sh
set -euo pipefail
cd "$(dirname "$0")"
go run ../../cmd/factoring schema > schema.graphql
npm ci --no-audit --no-fund
npx graphql-codegen --config codegen.ts
npx tsc --noEmit
echo "codegen: generated/graphql.ts generado y ejemplo.ts compila"
