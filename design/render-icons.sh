#!/usr/bin/env bash
# Renders the PWA icons in public/icons from public/favicon.svg and design/maskable.svg with headless
# Chromium. Run it after changing either SVG; the PNGs are committed.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
render() { # svg size out
  printf '<!doctype html><html><body style="margin:0;background:transparent"><img src="file://%s" width="%s" height="%s" style="display:block"></body></html>' \
    "$PWD/$1" "$2" "$2" > "$tmp/page.html"
  chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --default-background-color=00000000 \
    --disable-background-networking --disable-component-update --disable-sync --no-first-run \
    --user-data-dir="$tmp/profile" --window-size="$2,$2" --screenshot="$PWD/$3" "file://$tmp/page.html" 2>/dev/null
}
render public/favicon.svg 192 public/icons/icon-192.png
render public/favicon.svg 512 public/icons/icon-512.png
render design/maskable.svg 192 public/icons/maskable-192.png
render design/maskable.svg 512 public/icons/maskable-512.png
