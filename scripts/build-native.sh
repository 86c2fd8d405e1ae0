#!/usr/bin/env bash
# Builds aifb's own native addon, native/rename-exchange (renameat2 with
# RENAME_EXCHANGE, which the file store uses so a save landing mid-write is
# never unlinked), into .cache/native/. Needs a C compiler and Node's headers,
# which come with Node; nothing is downloaded. Without a compiler it says so
# and exits 0: the store then falls back to rename(2) (DEVELOPERS.md).
set -euo pipefail
cd "$(dirname "$0")/.."
SRC=native/rename-exchange/exchange.c
OUT=.cache/native/rename-exchange.node
if [ -f "$OUT" ] && [ "$OUT" -nt "$SRC" ]; then exit 0; fi
CC="${CC:-cc}"
if ! command -v "$CC" > /dev/null; then
  echo "build-native: no C compiler ($CC): $OUT not built; status writes fall back to rename(2) (apt-get install gcc, then npm run build)" >&2
  exit 0
fi
NODEDIR="$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")"
if [ ! -f "$NODEDIR/include/node/node_api.h" ]; then
  echo "build-native: $NODEDIR/include/node/node_api.h is missing: $OUT not built; status writes fall back to rename(2)" >&2
  exit 0
fi
mkdir -p "$(dirname "$OUT")"
if ! "$CC" -O2 -Wall -Wextra -shared -fPIC -I"$NODEDIR/include/node" "$SRC" -o "$OUT.tmp"; then
  rm -f "$OUT.tmp"
  echo "build-native: compiling $SRC failed (above): $OUT not built; status writes fall back to rename(2)" >&2
  exit 0
fi
mv "$OUT.tmp" "$OUT"
