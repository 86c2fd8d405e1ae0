#!/usr/bin/env bash
# Sets up a fresh Debian machine (as root) and runs every test: installs the
# system packages the tests need, installs node modules, builds, tests.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages the build and the tests need; installed only when missing:
# build tools for native modules, SLURM and munge for the test cluster,
# PostgreSQL, which the stand-in apptainer runs where a container would be,
# Prometheus and Pushgateway for the local MonitoringStack, and Faiss, which
# faiss-node is built against (scripts/build-faiss-node.sh), and wrk, a peer in
# `npm run bench -- http` (its small test runs it), and chromium, in which the
# HTML report and the web page are opened by tests (playwright-core drives it).
PACKAGES=(python3 make g++ procps slurm-wlm munge slurmdbd mariadb-server postgresql prometheus prometheus-pushgateway libfaiss-dev wrk chromium)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "test-all: missing Debian packages: ${missing[*]}; run as root or install them first" >&2
    exit 1
  fi
  echo "test-all: installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi

# faiss-node's own install step downloads from GitHub: give it a local build instead.
bash scripts/build-faiss-node.sh
export npm_config_faiss_node_local_prebuilds="$PWD/.cache/prebuilds"
npm ci --no-audit --no-fund
node -e "require('faiss-node')" || { echo "test-all: faiss-node did not install from the local prebuild; see DEVELOPERS.md" >&2; exit 1; }
# aifb's own addon (the file store's atomic exchange); a test checks it loads.
bash scripts/build-native.sh
# A real single-node SLURM for the integration tests (idempotent).
bash scripts/slurm-up.sh
npm test
