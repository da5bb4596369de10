#!/usr/bin/env bash
# Fetches Redoc's standalone bundle at the pinned version from npm into this
# directory, with Redoc's license and the licenses of what the bundle
# contains, and records the bundle's SHA-256 (docs_test.go checks it, so that
# a change to the embedded file is always deliberate). `make docs-assets`
# runs it; REDOC_VERSION overrides the pin.
set -euo pipefail
version=${REDOC_VERSION:-2.5.4}
dir=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# npm pack checks the tarball against the registry's integrity hash.
(cd "$tmp" && npm pack --silent "redoc@$version" >/dev/null)
tar -xzf "$tmp/redoc-$version.tgz" -C "$tmp"
pkg=$tmp/package
got=$(node -p 'require(process.argv[1]).version' "$pkg/package.json")
if [ "$got" != "$version" ]; then echo "npm gave redoc $got, want $version" >&2; exit 1; fi

cp "$pkg/bundles/redoc.standalone.js" "$dir/redoc.standalone.js"
cp "$pkg/bundles/redoc.standalone.js.LICENSE.txt" "$dir/redoc.standalone.js.LICENSE.txt"
cp "$pkg/LICENSE" "$dir/LICENSE.redoc"
(cd "$dir" && sha256sum redoc.standalone.js >redoc.standalone.js.sha256)
echo "$version" >"$dir/REDOC_VERSION"
echo "redoc $version: $(wc -c <"$dir/redoc.standalone.js") bytes, sha256 $(cut -d' ' -f1 "$dir/redoc.standalone.js.sha256")"
