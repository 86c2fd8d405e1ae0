#!/usr/bin/env bash
# Stops the single-node SLURM test cluster started by scripts/slurm-up.sh.
#
#   scripts/slurm-down.sh              stop slurmd, slurmctld, slurmdbd, its MariaDB and munged
#   scripts/slurm-down.sh --ctld-only  stop only slurmctld (tests of "controller unreachable")
#   scripts/slurm-down.sh --keep-munge stop slurmd, slurmctld and slurmdbd; leave munged and MariaDB running
set -euo pipefail

CTLD_PID=/run/slurmctld.pid
SLURMD_PID=/run/slurmd.pid
DBD_PID=/run/slurmdbd.pid
# slurm-up.sh's own MariaDB, not a system one.
DB_PID=/run/aifb-slurm/mariadb.pid
MUNGE_PID=/run/munge/munged.pid

log() { echo "slurm-down: $*" >&2; }

stop() { # name pidfile: SIGTERM the daemon the pidfile names, wait until it is gone
  local name=$1 pidfile=$2 pid i
  if [ ! -s "$pidfile" ] || ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    log "$name not running"
    return 0
  fi
  pid="$(cat "$pidfile")"
  log "stopping $name (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 60; i++)); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.5
  done
  log "$name (pid $pid) ignored SIGTERM for 30s: sending SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
}

case "${1:-}" in
  --ctld-only)
    stop slurmctld "$CTLD_PID"
    ;;
  --keep-munge)
    stop slurmd "$SLURMD_PID"
    stop slurmctld "$CTLD_PID"
    stop slurmdbd "$DBD_PID"
    ;;
  "")
    stop slurmd "$SLURMD_PID"
    # slurmctld before slurmdbd, so it hands over the job records it still holds.
    stop slurmctld "$CTLD_PID"
    stop slurmdbd "$DBD_PID"
    stop MariaDB "$DB_PID"
    stop munged "$MUNGE_PID"
    ;;
  *)
    echo "slurm-down: unknown argument '$1' (expected nothing, --ctld-only or --keep-munge)" >&2
    exit 1
    ;;
esac
