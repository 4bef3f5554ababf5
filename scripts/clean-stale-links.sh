#!/usr/bin/env bash
# llama-cpp-sys-2's build script hard-links its shared libraries into
# target/<profile>/ (and deps/, examples/). They are symlinks, so the links it
# makes dangle, and when the script reruns it fails with "File exists" on them.
# Removing dangling lib*.so links before a build keeps rebuilds working.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
target="${CARGO_TARGET_DIR:-target}"
for profile in "$target"/*/; do
  for dir in "$profile" "$profile/deps" "$profile/examples"; do
    [ -d "$dir" ] && find "$dir" -maxdepth 1 -xtype l -name 'lib*.so' -delete
  done
done
exit 0
