#!/usr/bin/env bash
# Refresh the vendored Apache ECharts (served locally by the 统计分析 dashboard; never from a CDN).
#   scripts/vendor_echarts.sh [VERSION]   (default: the pinned version below)
# Takes dist/echarts.min.js, LICENSE and NOTICE from the npm package and records the version and sha256.
set -euo pipefail
VERSION=${1:-5.6.0}
DEST=$(cd "$(dirname "$0")/.." && pwd)/fangpin/web/static/web/vendor/echarts
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
(cd "$TMP" && npm pack "echarts@$VERSION" >/dev/null && tar xzf "echarts-$VERSION.tgz")
cp "$TMP/package/dist/echarts.min.js" "$TMP/package/LICENSE" "$TMP/package/NOTICE" "$DEST/"
echo "echarts $VERSION sha256 $(sha256sum "$DEST/echarts.min.js" | cut -d' ' -f1)" >"$DEST/VERSION"
cat "$DEST/VERSION"
