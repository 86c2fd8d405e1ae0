#!/usr/bin/env bash
# Starts a single-node SLURM test cluster on this host (munged, MariaDB,
# slurmdbd, slurmctld, slurmd, two fake GPUs) for the integration tests; safe
# to run again, and quick when everything already runs as configured.
#
#   scripts/slurm-up.sh              install if needed, configure, start, wait, print node name
#   scripts/slurm-up.sh --ctld-only  (re)start only slurmctld (after slurm-down.sh --ctld-only)
#
# Strict as a production cluster (MeluXina) is: accounting through slurmdbd,
# and a job needs an association (AccountingStorageEnforce), so sbatch refuses
# an account that does not exist. root is a user of the project account
# p200981 (its default account, so jobs without -A run).
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
DBD_CONF="$CONF_DIR/slurmdbd.conf"
DBD_PID=/run/slurmdbd.pid
# The accounting database: a MariaDB of its own (own data folder, socket and
# port), so slurm-down.sh stops exactly what this script started.
DB_DIR=/var/lib/aifb-slurm/mariadb
DB_RUN=/run/aifb-slurm
DB_SOCK=$DB_RUN/mariadb.sock
DB_PID=$DB_RUN/mariadb.pid
DB_PORT=3307
CLUSTER=aifb-test
# test/bench/slurm-scale.ts makes its second user a user of it too.
ACCOUNT=p200981
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
db_answers() { mariadb-admin --no-defaults --socket="$DB_SOCK" ping; }
dbd_answers() { timeout 10 sacctmgr -n -P show cluster format=cluster; }

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
for p in slurm-wlm munge slurmdbd mariadb-server; do
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
new_dbd="$(mktemp)"
trap 'rm -f "$new_conf" "$new_gres" "$new_lua" "$new_dbd"' EXIT
# The database password is made once and kept in slurmdbd.conf (root-only).
DB_PASS=""
[ ! -f "$DBD_CONF" ] || DB_PASS="$(sed -n 's/^StoragePass=//p' "$DBD_CONF" | head -n1)"
[ -n "$DB_PASS" ] || DB_PASS="$(head -c 24 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')"
cat >"$new_dbd" <<EOF
# Written by aifb scripts/slurm-up.sh: accounting for the test cluster.
AuthType=auth/munge
DbdHost=$HOST
SlurmUser=root
PidFile=$DBD_PID
LogFile=$LOG_DIR/slurmdbd.log
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=$DB_PORT
StorageUser=slurm
StoragePass=$DB_PASS
StorageLoc=slurm_acct_db
EOF
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
# Finished jobs leave slurmctld (squeue, scontrol) after a minute, as on a
# busy production cluster; their end stays in accounting (sacct).
MinJobAge=60
KillWait=5
InactiveLimit=0
Waittime=0
SchedulerType=sched/backfill
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=$HOST
# A job needs an association (user, account, partition), and its limits and QOS hold.
AccountingStorageEnforce=associations,limits,qos
# sacct returns the job comment, which names the aifb launch.
AccountingStoreFlags=job_comment
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
# MeluXina's CPU partition by name, for jobs that must say where they go.
PartitionName=cpu Nodes=$NODE MaxTime=2-00:00:00 State=UP
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
# Owner-only: it holds the database password.
if ! cmp -s "$new_dbd" "$DBD_CONF"; then install -m 0600 "$new_dbd" "$DBD_CONF"; changed=1; fi
chmod 0644 "$CONF" "$GRES_CONF" "$CONF_DIR/job_submit.lua"

if [ "$changed" -eq 1 ] && { pid_alive "$CTLD_PID" || pid_alive "$SLURMD_PID" || pid_alive "$DBD_PID"; }; then
  log "configuration changed: restarting the SLURM daemons"
  "$(dirname "$0")/slurm-down.sh" --keep-munge
fi

# 4. the accounting database and slurmdbd
mkdir -p "$DB_DIR" "$DB_RUN"
chown mysql:mysql "$DB_DIR" "$DB_RUN"
if [ ! -d "$DB_DIR/mysql" ]; then
  log "creating the accounting database in $DB_DIR"
  mariadb-install-db --no-defaults --user=mysql --datadir="$DB_DIR" --auth-root-authentication-method=socket --skip-test-db >"$LOG_DIR/mariadb-install.log" 2>&1 ||
    die "mariadb-install-db failed: see $LOG_DIR/mariadb-install.log"
fi
if pid_alive "$DB_PID"; then
  log "MariaDB already running (pid $(cat "$DB_PID"))"
else
  log "starting MariaDB on 127.0.0.1:$DB_PORT"
  # A small buffer pool, enough for a test cluster's few thousand jobs (slurmdbd
  # logs that it would like more). skip-name-resolve: slurmdbd's database user
  # is 'slurm'@'127.0.0.1', whatever name 127.0.0.1 resolves to.
  setsid mariadbd --no-defaults --user=mysql --datadir="$DB_DIR" --socket="$DB_SOCK" --pid-file="$DB_PID" \
    --port="$DB_PORT" --bind-address=127.0.0.1 --skip-name-resolve \
    --innodb-buffer-pool-size=64M --innodb-lock-wait-timeout=900 \
    --log-error="$LOG_DIR/mariadb.log" </dev/null >/dev/null 2>&1 &
fi
wait_for 60 "MariaDB to answer on $DB_SOCK" db_answers
# Every run, so the password in slurmdbd.conf is always the one that works.
# On stdin, not the command line, where ps would show the password.
mariadb --no-defaults --socket="$DB_SOCK" <<EOF || die "could not set up the database user for slurmdbd"
CREATE USER IF NOT EXISTS 'slurm'@'127.0.0.1' IDENTIFIED BY '$DB_PASS';
ALTER USER 'slurm'@'127.0.0.1' IDENTIFIED BY '$DB_PASS';
GRANT ALL ON slurm_acct_db.* TO 'slurm'@'127.0.0.1';
EOF

if pid_alive "$DBD_PID"; then
  log "slurmdbd already running (pid $(cat "$DBD_PID"))"
else
  log "starting slurmdbd"
  slurmdbd
fi
# The first start creates the tables: slow on a busy 2-core machine.
wait_for 180 "slurmdbd to answer (sacctmgr show cluster)" dbd_answers

# 5. associations: the cluster, a project account, and who may use it
sacct_has() { # a line the sacctmgr listing must hold, then the listing's arguments
  local want=$1; shift
  timeout 30 sacctmgr -n -P show "$@" | grep -qxF "$want"
}
sacct_add() { log "sacctmgr $*"; timeout 30 sacctmgr -i "$@" >/dev/null || die "sacctmgr $* failed"; }
sacct_has "$CLUSTER" cluster format=cluster || sacct_add add cluster "$CLUSTER"
sacct_has "$ACCOUNT" account format=account || sacct_add add account "$ACCOUNT" cluster="$CLUSTER" description="aifb test project" organization=aifb
sacct_has root assoc where cluster="$CLUSTER" account="$ACCOUNT" user=root format=user ||
  sacct_add add user root account="$ACCOUNT" cluster="$CLUSTER"
sacct_has "$ACCOUNT" user root format=defaultaccount || sacct_add modify user root set defaultaccount="$ACCOUNT"

# 6. slurmctld and slurmd
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

log "ready: node $NODE, partitions debug, short (MaxTime 5 min) and cpu, $CPUS CPUs, 2 fake GPUs, account $ACCOUNT (root's default), submit limits by $SUBMIT_LIMIT_FILE"
echo "$NODE"
