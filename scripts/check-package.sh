#!/usr/bin/env bash
# `npm run check:package`: lints the tarball `npm pack` makes, as a consumer's package manager and
# TypeScript will see it: publint (files, exports map, conditions) and Are the Types Wrong (types per
# entry, per module resolution). Run after `npm run build` (scripts/test.sh does): it packs dist/ as
# it is, with --ignore-scripts, so the prepack build does not run a second time.
# attw's esm-only profile: the package is ES modules only ("type": "module", every export an
# `import` condition), so node10 resolution and require() from CommonJS are not offered.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [[ ! -f dist/index.js ]]; then
  echo "dist/ is not built: run npm run build first." >&2
  exit 1
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
npm pack --ignore-scripts --silent --pack-destination "$out" >/dev/null
tarball=("$out"/*.tgz)

echo "== publint"
npx --no-install publint run --strict "${tarball[0]}"
echo "== attw"
npx --no-install attw "${tarball[0]}" --profile esm-only --format table-flipped --no-color
