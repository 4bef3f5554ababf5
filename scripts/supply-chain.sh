#!/usr/bin/env bash
# The supply chain, as CI checks it: cargo-deny over both workspaces (the
# daemon and the built-in skills) for licences, banned crates and sources
# (deny.toml), and for security advisories when the RustSec database can be
# fetched (it lives on GitHub; where that is unreachable the check is skipped
# and says so, it never passes silently).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

deny_version=0.20.2
if ! cargo deny --version 2>/dev/null | grep -q "$deny_version"; then
  echo "==> cargo install cargo-deny $deny_version"
  # Built for a tool that runs for seconds: cargo-deny's own release profile
  # (fat LTO, one codegen unit) made its build the longest step of a CI run
  # after HausKI's own; these settings override it for this build only.
  CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 CARGO_PROFILE_RELEASE_OPT_LEVEL=1 \
    cargo install --locked --quiet "cargo-deny@$deny_version"
fi

manifests=(Cargo.toml skills/builtin/Cargo.toml)
for manifest in "${manifests[@]}"; do
  echo "==> cargo deny: $manifest"
  cargo deny --log-level error --manifest-path "$manifest" check bans licenses sources
done

if timeout 120 cargo deny --log-level error fetch db >/dev/null 2>&1; then
  for manifest in "${manifests[@]}"; do
    cargo deny --log-level error --manifest-path "$manifest" check --disable-fetch advisories
  done
else
  echo "note: advisories NOT checked: the RustSec database (github.com/RustSec/advisory-db) is unreachable from here"
fi
