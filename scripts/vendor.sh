#!/usr/bin/env bash
# Copies the web app's pinned front-end libraries (package.json) from node_modules into
# platform/web/static/vendor, where go:embed puts them in the binary: no build step, nothing
# fetched at run time. Run by `make generate`; the copies are committed.
set -euo pipefail
cd "$(dirname "$0")/.."
out=platform/web/static/vendor
rm -rf "$out" && mkdir -p "$out"
cp node_modules/htmx.org/dist/htmx.min.js "$out/"
cp node_modules/uplot/dist/uPlot.iife.min.js node_modules/uplot/dist/uPlot.min.css "$out/"
cp node_modules/cytoscape/dist/cytoscape.min.js "$out/"
cp node_modules/cytoscape-dagre/dist/cytoscape-dagre.min.js "$out/"
cp node_modules/@picocss/pico/css/pico.min.css "$out/"
for p in htmx.org uplot cytoscape cytoscape-dagre @picocss/pico; do
  node -e "const p=require('./node_modules/$p/package.json'); console.log(p.name+'@'+p.version+' ('+(p.license||'')+')')"
done > "$out/VERSIONS.txt"
