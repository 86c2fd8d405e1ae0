#!/usr/bin/env bash
# Pulls the catalog's container images into a SIF cache, once: a SIF already in the
# cache is skipped. The image list is containers/images.txt, generated from catalog.ts.
# The cache is the one the controller reads: resolved as containers/data-dir.ts does.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
images_file="${AIFB_IMAGES_FILE:-$here/images.txt}"
apptainer="${AIFB_APPTAINER:-apptainer}"
force=0
wanted=()
cache_flag=""
data_flag=""

# The data folder: --data-dir, else AIFB_DATA_DIR, else $SCRATCH/aifb, else $PROJECT/aifb, else none.
data_root() {
  local root=""
  if [ -n "$data_flag" ]; then root=$data_flag
  elif [ -n "${AIFB_DATA_DIR:-}" ]; then root=$AIFB_DATA_DIR
  elif [ -n "${SCRATCH:-}" ]; then root=$SCRATCH/aifb
  elif [ -n "${PROJECT:-}" ]; then root=$PROJECT/aifb
  fi
  case "$root" in "" | /*) ;; *) root=$PWD/$root ;; esac
  printf '%s' "$root"
}

# The SIF cache: --cache, else AIFB_SIF_CACHE, else <data folder>/sif, else ./containers/sif.
sif_cache() {
  local c=""
  if [ -n "$cache_flag" ]; then c=$cache_flag
  elif [ -n "${AIFB_SIF_CACHE:-}" ]; then c=$AIFB_SIF_CACHE
  elif [ -n "$(data_root)" ]; then c=$(data_root)/sif
  else c=$PWD/containers/sif
  fi
  case "$c" in /*) ;; *) c=$PWD/$c ;; esac
  printf '%s' "$c"
}

usage() {
  cat <<EOF
Usage: containers/pull.sh [--cache DIR] [--data-dir DIR] [--force] [TYPE...]

Pulls each catalog image (all of them, or only the TYPEs named) to the SIF cache
with \`apptainer pull\`. SIFs already there are kept unless --force is given.

  --data-dir DIR  aifb's data folder, as \`controller run --data-dir\` takes it
                  (default AIFB_DATA_DIR, else \$SCRATCH/aifb, else \$PROJECT/aifb;
                  now ${root:-none}); Apptainer's cache and build space go under
                  it (APPTAINER_CACHEDIR, APPTAINER_TMPDIR, unless set)
  --cache DIR     SIF cache folder (default AIFB_SIF_CACHE, else DATA/sif, else
                  \$PWD/containers/sif; now $cache)
  --force         pull again even when the SIF exists
  -h, --help      show this help

Types: $(grep -v '^#' "$images_file" | awk 'NF { printf "%s ", $1; for (i = 3; i <= NF; i++) printf "%s ", $i }')
Set AIFB_APPTAINER to use another apptainer binary (default: apptainer from PATH).
EOF
}

help=0
while [ $# -gt 0 ]; do
  case "$1" in
    -h | --help) help=1; shift ;;
    --cache)
      [ $# -ge 2 ] || { echo "pull.sh: --cache needs a folder, e.g. --cache /scratch/\$USER/sif" >&2; exit 2; }
      cache_flag="$2"; shift 2 ;;
    --cache=*) cache_flag="${1#--cache=}"; shift ;;
    --data-dir)
      [ $# -ge 2 ] || { echo "pull.sh: --data-dir needs a folder, e.g. --data-dir /project/scratch/p200981/aifb" >&2; exit 2; }
      data_flag="$2"; shift 2 ;;
    --data-dir=*) data_flag="${1#--data-dir=}"; shift ;;
    --force) force=1; shift ;;
    --) shift; wanted+=("$@"); break ;;
    -*) echo "pull.sh: unknown option $1; see containers/pull.sh --help" >&2; exit 2 ;;
    *) wanted+=("$1"); shift ;;
  esac
done
root=$(data_root)
cache=$(sif_cache)
if [ "$help" -eq 1 ]; then usage; exit 0; fi

if [ ! -r "$images_file" ]; then
  echo "pull.sh: image list $images_file is missing; regenerate it with \`node dist/containers/catalog-list.js > containers/images.txt\`" >&2
  exit 2
fi

# Lines are: <sif-name> <reference> [alias...]
names=(); refs=(); aliases=()
while read -r name ref rest; do
  case "$name" in '' | '#'*) continue ;; esac
  names+=("$name"); refs+=("$ref"); aliases+=(" $name ${rest:-} ")
done <"$images_file"

selected=()
if [ ${#wanted[@]} -eq 0 ]; then
  selected=("${!names[@]}")
else
  for w in "${wanted[@]}"; do
    found=""
    for i in "${!names[@]}"; do
      case "${aliases[$i]}" in *" $w "*) found=$i; break ;; esac
    done
    if [ -z "$found" ]; then
      echo "pull.sh: unknown type \"$w\"; known types: $(printf '%s' "${aliases[*]}" | tr -s ' ' | sed 's/^ //;s/ $//')" >&2
      exit 2
    fi
    case " ${selected[*]:-} " in *" $found "*) ;; *) selected+=("$found") ;; esac
  done
fi

if ! command -v "$apptainer" >/dev/null 2>&1; then
  echo "pull.sh: \`$apptainer\` was not found on PATH." >&2
  echo "  On MeluXina: module load Apptainer   (or: module purge && module add Apptainer)" >&2
  echo "  Elsewhere: install Apptainer 1.1 or newer, or set AIFB_APPTAINER to its path." >&2
  exit 127
fi

# Converting an image fills Apptainer's cache with its layers, gigabytes for vLLM: in the
# data folder, not the home quota, unless the user or the site chose a place already.
if [ -n "$root" ]; then
  export APPTAINER_CACHEDIR="${APPTAINER_CACHEDIR:-$root/apptainer/cache}"
  export APPTAINER_TMPDIR="${APPTAINER_TMPDIR:-$root/apptainer/tmp}"
  mkdir -p "$APPTAINER_CACHEDIR" "$APPTAINER_TMPDIR"
fi
mkdir -p "$cache"
failed=()
for i in "${selected[@]}"; do
  dest="$cache/${names[$i]}.sif"
  if [ -e "$dest" ] && [ "$force" -eq 0 ]; then
    echo "pull.sh: ${names[$i]}: $dest exists, skipped"
    continue
  fi
  echo "pull.sh: ${names[$i]}: pulling ${refs[$i]} -> $dest"
  pull_args=(pull)
  [ "$force" -eq 1 ] && pull_args+=(--force)
  if ! "$apptainer" "${pull_args[@]}" "$dest" "${refs[$i]}"; then
    failed+=("${names[$i]}")
  fi
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "pull.sh: failed to pull: ${failed[*]} (see the apptainer messages above; check network access and \$APPTAINER_CACHEDIR space)" >&2
  exit 1
fi
echo "pull.sh: SIF cache $cache is ready"
