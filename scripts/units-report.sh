#!/usr/bin/env bash
# Checks the systemd units with systemd's own tools and writes their offline
# security exposure (0 best, 10 worst) into the README table between the
# `units` markers. Run by scripts/test.sh; tests/it/systemd_units.rs asserts.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
readme="${1:-README.md}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
bin="$(pwd)/target/debug/hauski"
for unit in systemd/*; do
  sed "s|%h/.local/bin/hauski|$bin|" "$unit" > "$work/$(basename "$unit")"
done
(cd "$work" && systemd-analyze verify --man=no ./*.service ./*.slice ./*.timer)
{
  echo "| unit | \`systemd-analyze security --offline\` exposure (0 best, 10 worst) |"
  echo "|---|---|"
  for service in "$work"/*.service; do
    name="$(basename "$service")"
    level="$(cd "$work" && systemd-analyze security --offline=yes --no-pager "$name" | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')"
    echo "| \`$name\` | $level |"
  done
} > "$work/table.md"
python3 - "$readme" "$work/table.md" <<'PY'
import sys
readme, table = sys.argv[1], open(sys.argv[2]).read().strip()
text = open(readme).read()
begin, end = "<!-- units:begin -->", "<!-- units:end -->"
a, b = text.index(begin) + len(begin), text.index(end)
open(readme, "w").write(text[:a] + "\n" + table + "\n" + text[b:])
PY
cat "$work/table.md"
