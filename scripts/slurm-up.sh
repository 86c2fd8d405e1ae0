#!/usr/bin/env bash
# Starts a single-node SLURM test cluster on this host (munged, slurmctld,
# slurmd, two fake GPUs) for the integration tests; safe to run again.
#
#   scripts/slurm-up.sh              install if needed, configure, start, wait, print node name
#   scripts/slurm-up.sh --ctld-only  (re)start only slurmctld (after slurm-down.sh --ctld-only)
#
# AIFB_SLURM_CPUS (default 8) is how many CPUs the node advertises: more than
# a 2-core test machine has, so a service job, a runner job and the controller
# can run at once (slurmd accepts it thanks to SlurmdParameters=config_overrides).
set -euo pipefail

CONF_DIR=/etc/slurm
CONF="$CONF_DIR/slurm.conf"
GRES_CONF="$CONF_DIR/gres.conf"
FAKE_GPU_DIR=/var/lib/aifb-fake-gpu
STATE_DIR=/var/spool/slurmctld
SLURMD_SPOOL=/var/spool/slurmd
LOG_DIR=/var/log/slurm
CTLD_PID=/run/slurmctld.pid
SLURMD_PID=/run/slurmd.pid
MUNGE_PID=/run/munge/munged.pid
# While this file exists, sbatch refuses jobs whose names it lists, with the
# words of a QOS submit limit (see job_submit.lua below); tests write it.
SUBMIT_LIMIT_FILE=/var/lib/aifb-slurm/submit-limit
CPUS="${AIFB_SLURM_CPUS:-8}"

log() { echo "slurm-up: $*" >&2; }
die() { echo "slurm-up: $*" >&2; exit 1; }

pid_alive() { # pidfile -> true when the process it names runs
  [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null
}

wait_for() { # seconds description command...
  local secs=$1 what=$2; shift 2
  local i
  for ((i = 0; i < secs * 2; i++)); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.5
  done
  die "timed out after ${secs}s waiting for $what (logs: $LOG_DIR)"
}

ctld_answers() { timeout 5 scontrol ping 2>/dev/null | grep -q 'is UP'; }

start_ctld() {
  if pid_alive "$CTLD_PID"; then
    log "slurmctld already running (pid $(cat "$CTLD_PID"))"
  else
    log "starting slurmctld"
    # -i: a state file from an older config is not fatal; job state is kept,
    # so a restarted slurmctld still knows the jobs submitted before.
    slurmctld -i
  fi
  wait_for 60 "slurmctld to answer (scontrol ping)" ctld_answers
}

node_state() { sinfo -h -N -n "$NODE" -o %T 2>/dev/null | head -n1; }
node_usable() { node_state | grep -Eq '^(idle|mixed|allocated|completing)'; }
node_registered() { node_state | grep -Eqv '^(unknown|$)'; }

if [ "${1:-}" = "--ctld-only" ]; then
  [ "$(id -u)" -eq 0 ] || die "must run as root"
  [ -f "$CONF" ] || die "$CONF missing: run scripts/slurm-up.sh without --ctld-only first"
  start_ctld
  # slurmd re-registers with a restarted slurmctld within seconds; until then
  # the node is "unknown" and nothing schedules.
  NODE="$(sed -n 's/^NodeName=\([^ ]*\).*/\1/p' "$CONF" | head -n1)"
  if pid_alive "$SLURMD_PID" && [ -n "$NODE" ]; then
    wait_for 60 "node $NODE to register again" node_registered
  fi
  exit 0
elif [ -n "${1:-}" ]; then
  die "unknown argument '$1' (expected nothing or --ctld-only)"
fi

[ "$(id -u)" -eq 0 ] || die "must run as root (it installs packages and starts daemons)"

# 1. packages
missing=()
for p in slurm-wlm munge; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y -qq "${missing[@]}" >/dev/null; then
    apt-get update -qq
    apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
fi

# 2. munge: key and socket dir owned by munge, key readable only by it
if [ ! -s /etc/munge/munge.key ]; then
  log "creating /etc/munge/munge.key"
  mkdir -p /etc/munge
  if command -v mungekey >/dev/null; then
    mungekey --create --force --keyfile=/etc/munge/munge.key
  else
    dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 status=none
  fi
fi
mkdir -p /run/munge /var/lib/munge /var/log/munge
chown munge:munge /etc/munge /etc/munge/munge.key /run/munge /var/lib/munge /var/log/munge
chmod 0700 /etc/munge /var/log/munge
chmod 0400 /etc/munge/munge.key
chmod 0755 /run/munge
if pid_alive "$MUNGE_PID"; then
  log "munged already running (pid $(cat "$MUNGE_PID"))"
else
  log "starting munged"
  runuser -u munge -- /usr/sbin/munged
fi
wait_for 20 "munge to encode/decode a credential" bash -c 'munge -n | unmunge'

# 3. configuration
NODE_LINE="$(slurmd -C | head -n1)"
NODE="$(sed -n 's/^NodeName=\([^ ]*\).*/\1/p' <<<"$NODE_LINE")"
MEM="$(sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' <<<"$NODE_LINE")"
[ -n "$NODE" ] && [ -n "$MEM" ] || die "could not read the node from 'slurmd -C': $NODE_LINE"
HOST="$(hostname -s)"

mkdir -p "$CONF_DIR" "$FAKE_GPU_DIR" "$STATE_DIR" "$SLURMD_SPOOL" "$LOG_DIR"
# Character devices with /dev/null's numbers stand in for /dev/nvidia*: slurmd
# wants device files (plain files only schedule, without CUDA_VISIBLE_DEVICES),
# and writing to these is harmless. Plain files are the fallback where mknod is
# not allowed (some containers).
devices_changed=0
for i in 0 1; do
  dev="$FAKE_GPU_DIR/nvidia$i"
  [ -c "$dev" ] && continue
  rm -f "$dev"
  devices_changed=1
  mknod -m 0666 "$dev" c 1 3 2>/dev/null || touch "$dev"
done

new_conf="$(mktemp)"
new_gres="$(mktemp)"
new_lua="$(mktemp)"
trap 'rm -f "$new_conf" "$new_gres" "$new_lua"' EXIT
mkdir -p "$(dirname "$SUBMIT_LIMIT_FILE")"
cat >"$new_conf" <<EOF
# Written by aifb scripts/slurm-up.sh: a single-node test cluster.
ClusterName=aifb-test
SlurmctldHost=$HOST
SlurmUser=root
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
GresTypes=gpu
SlurmdParameters=config_overrides
# 1: a node an admin (or a test) set DOWN stays down until "state=resume".
ReturnToService=1
# aifb retries failed attempts itself; SLURM must not requeue behind its back.
JobRequeue=0
# Finished jobs stay visible to 'scontrol show job' for 5 minutes (no slurmdbd here).
MinJobAge=300
KillWait=5
InactiveLimit=0
Waittime=0
SchedulerType=sched/backfill
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
JobAcctGatherType=jobacct_gather/none
StateSaveLocation=$STATE_DIR
SlurmdSpoolDir=$SLURMD_SPOOL
SlurmctldPidFile=$CTLD_PID
SlurmdPidFile=$SLURMD_PID
SlurmctldLogFile=$LOG_DIR/slurmctld.log
SlurmdLogFile=$LOG_DIR/slurmd.log
NodeName=$NODE CPUs=$CPUS Boards=1 SocketsPerBoard=1 CoresPerSocket=$CPUS ThreadsPerCore=1 RealMemory=$MEM Gres=gpu:2 State=UNKNOWN
PartitionName=debug Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
# Stricter, as on a production cluster: a partition whose MaxTime a job may
# exceed (it then waits with PartitionTimeLimit, forever), and submit limits.
PartitionName=short Nodes=$NODE MaxTime=00:05:00 State=UP
JobSubmitPlugins=lua
EOF
cat >"$new_lua" <<EOF
-- Written by aifb scripts/slurm-up.sh. Refuses a job the way a QOS submit
-- limit does (ESLURM_ACCOUNTING_POLICY: "Job violates accounting/QOS policy
-- (job submit limit, ...)") while $SUBMIT_LIMIT_FILE lists its name.
function slurm_job_submit(job_desc, part_list, submit_uid)
  local f = io.open("$SUBMIT_LIMIT_FILE", "r")
  if f == nil then return slurm.SUCCESS end
  for line in f:lines() do
    if job_desc.name == line then
      f:close()
      return slurm.ESLURM_ACCOUNTING_POLICY
    end
  end
  f:close()
  return slurm.SUCCESS
end

function slurm_job_modify(job_desc, job_rec, part_list, modify_uid)
  return slurm.SUCCESS
end
EOF
cat >"$new_gres" <<EOF
# Written by aifb scripts/slurm-up.sh: two fake GPUs (empty files).
NodeName=$NODE Name=gpu File=$FAKE_GPU_DIR/nvidia[0-1]
EOF

changed=$devices_changed
if ! cmp -s "$new_conf" "$CONF"; then cp "$new_conf" "$CONF"; changed=1; fi
if ! cmp -s "$new_gres" "$GRES_CONF"; then cp "$new_gres" "$GRES_CONF"; changed=1; fi
if ! cmp -s "$new_lua" "$CONF_DIR/job_submit.lua"; then cp "$new_lua" "$CONF_DIR/job_submit.lua"; changed=1; fi
chmod 0644 "$CONF" "$GRES_CONF" "$CONF_DIR/job_submit.lua"

if [ "$changed" -eq 1 ] && { pid_alive "$CTLD_PID" || pid_alive "$SLURMD_PID"; }; then
  log "configuration changed: restarting the SLURM daemons"
  "$(dirname "$0")/slurm-down.sh" --keep-munge
fi

# 4. daemons
start_ctld
if pid_alive "$SLURMD_PID"; then
  log "slurmd already running (pid $(cat "$SLURMD_PID"))"
else
  log "starting slurmd"
  slurmd
fi

wait_for 60 "slurmd to register node $NODE" node_registered
# A node left down or drained by an earlier test run (NODE_FAIL tests) is resumed.
if ! node_usable; then
  state="$(node_state)"
  log "node $NODE is '$state': resuming it"
  scontrol update nodename="$NODE" state=resume 2>/dev/null || true
fi
wait_for 60 "node $NODE to be idle (sinfo -h -o %T)" node_usable
wait_for 120 "a test step to run (srun -N1 true)" timeout 60 srun -N1 -t 1 -J aifb-slurm-up-check true

log "ready: node $NODE, partitions debug and short (MaxTime 5 min), $CPUS CPUs, 2 fake GPUs, submit limits by $SUBMIT_LIMIT_FILE"
echo "$NODE"
