#!/usr/bin/env bash
# Copy the front-end libraries installed by npm into the git-ignored static/vendor/.
# Source maps travel with their files: the production static storage (hashed names) follows every
# sourceMappingURL comment and fails collectstatic when the map is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
out=static/vendor

copy() {  # copy <file> <dir>: the file and, when npm ships one, its source map
  cp "$1" "$2/"
  if [ -f "$1.map" ]; then cp "$1.map" "$2/"; fi
}

rm -rf "$out" && mkdir -p "$out/bootstrap" "$out/bootstrap-icons/fonts" "$out/htmx" "$out/chartjs" "$out/sortablejs" "$out/flatpickr/l10n"
copy node_modules/bootstrap/dist/css/bootstrap.min.css "$out/bootstrap"
copy node_modules/bootstrap/dist/js/bootstrap.bundle.min.js "$out/bootstrap"
copy node_modules/bootstrap-icons/font/bootstrap-icons.min.css "$out/bootstrap-icons"
cp node_modules/bootstrap-icons/font/fonts/bootstrap-icons.woff2 node_modules/bootstrap-icons/font/fonts/bootstrap-icons.woff "$out/bootstrap-icons/fonts/"
copy node_modules/htmx.org/dist/htmx.min.js "$out/htmx"
copy node_modules/chart.js/dist/chart.umd.min.js "$out/chartjs"
copy node_modules/sortablejs/Sortable.min.js "$out/sortablejs"
copy node_modules/flatpickr/dist/flatpickr.min.js "$out/flatpickr"
copy node_modules/flatpickr/dist/flatpickr.min.css "$out/flatpickr"
copy node_modules/flatpickr/dist/l10n/zh.js "$out/flatpickr/l10n"  # the date pickers' 中文 (English is built in)
echo "vendor assets copied to $out"
