// The failure policy: what a SLURM job state means for aifb (pending, running
// or exited) and whether another attempt can help.
import type { SlurmJob } from './commands.js';

export interface JobPhase {
  phase: 'pending' | 'running' | 'exited';
  reason?: string;
  exitCode?: number | null;
  /** For exited jobs: true when the cluster, not the spec, caused the end, so a new attempt may succeed. */
  retryable?: boolean;
  nodes?: string;
}

const PENDING = new Set(['PENDING', 'REQUEUED', 'REQUEUE_HOLD', 'REQUEUE_FED', 'CONFIGURING', 'RESV_DEL_HOLD']);
const RUNNING = new Set(['RUNNING', 'COMPLETING', 'STAGE_OUT', 'SIGNALING', 'RESIZING', 'SUSPENDED', 'STOPPED']);

// Ends caused by the cluster: the same spec may well run next time.
const CLUSTER_FAILURE: Record<string, string> = {
  NODE_FAIL: 'NODE_FAIL: a node of the job failed',
  PREEMPTED: 'PREEMPTED: SLURM preempted the job for higher-priority work',
  BOOT_FAIL: 'BOOT_FAIL: a node of the job failed to boot',
};

// Ends a retry would only repeat: the spec or a person has to change something.
const FINAL: Record<string, string> = {
  TIMEOUT: 'TIMEOUT: the job reached its time limit; raise spec.slurm.time or shorten the run',
  OUT_OF_MEMORY: 'OUT_OF_MEMORY: the job ran out of memory; raise spec.slurm.mem',
  CANCELLED: 'CANCELLED: cancelled from outside aifb (scancel)',
  DEADLINE: 'DEADLINE: the job missed its deadline',
  REVOKED: 'REVOKED: a federated sibling cluster ran the job instead',
  SPECIAL_EXIT: 'SPECIAL_EXIT: the job was held after a special exit',
};

const meaningful = (reason: string | undefined): string | undefined => (reason && reason !== 'None' ? reason : undefined);

export function classify(job: SlurmJob): JobPhase {
  const state = job.state.toUpperCase();
  if (PENDING.has(state)) {
    const reason = meaningful(job.reason);
    return { phase: 'pending', ...(reason ? { reason } : state !== 'PENDING' ? { reason: state } : {}) };
  }
  if (RUNNING.has(state)) {
    const reason = state === 'RUNNING' ? undefined : state;
    return { phase: 'running', ...(job.nodes ? { nodes: job.nodes } : {}), ...(reason ? { reason } : {}) };
  }
  const nodes = job.nodes ? { nodes: job.nodes } : {};
  const signalled = job.signal !== undefined && job.signal !== null && job.signal !== 0;
  if (state === 'COMPLETED') {
    return { phase: 'exited', exitCode: job.exitCode ?? 0, retryable: false, ...nodes };
  }
  if (state === 'FAILED') {
    const reason = signalled
      ? `FAILED: killed by signal ${job.signal}`
      : `FAILED: exit code ${job.exitCode ?? 'unknown'}${meaningful(job.reason) && job.reason !== 'NonZeroExitCode' ? ` (${job.reason})` : ''}`;
    return { phase: 'exited', exitCode: signalled ? null : (job.exitCode ?? null), retryable: true, reason, ...nodes };
  }
  if (state in CLUSTER_FAILURE) {
    const where = state === 'NODE_FAIL' && job.nodes ? ` (${job.nodes})` : '';
    return { phase: 'exited', exitCode: null, retryable: true, reason: CLUSTER_FAILURE[state] + where, ...nodes };
  }
  if (state in FINAL) {
    return { phase: 'exited', exitCode: signalled ? null : (job.exitCode ?? null), retryable: false, reason: FINAL[state], ...nodes };
  }
  // A state this SLURM version added and aifb does not know: keep watching it.
  return { phase: 'running', reason: `SLURM state ${state}`, ...nodes };
}

/**
 * What a pending job's reason asks of aifb: `wait` (the queue will move: no
 * attempt is used up), `fail` (no amount of waiting lets this job start: cancel
 * it and say what to change), or `surface` (it may start later, but a person
 * should know why it does not now). Reasons SLURM adds later default to wait.
 */
export interface PendingVerdict {
  action: 'wait' | 'fail' | 'surface';
  /** For fail and surface: what the reason means and what to do. */
  message?: string;
}

// Each can never clear while the job stays as submitted.
const NEVER_STARTS: Record<string, string> = {
  PartitionTimeLimit: "the job's time limit is above its partition's MaxTime; lower spec.slurm.time or choose another spec.slurm.partition (sinfo -o '%P %l' lists them)",
  QOSMaxWallDurationPerJobLimit: "the job's time limit is above its QOS's MaxWall; lower spec.slurm.time or choose another spec.slurm.qos (sacctmgr show qos format=name,maxwall)",
  AssocMaxWallDurationPerJobLimit: "the job's time limit is above what the account allows per job; lower spec.slurm.time",
  PartitionNodeLimit: 'the job asks for more nodes than its partition allows; lower runner.nodes or choose another spec.slurm.partition',
  QOSMaxNodePerJobLimit: 'the job asks for more nodes than its QOS allows per job; lower runner.nodes or choose another spec.slurm.qos',
  QOSMaxGRESPerJob: 'the job asks for more GPUs than its QOS allows per job; lower spec.gpus or choose another spec.slurm.qos',
  BadConstraints: 'no node can satisfy the job\'s constraints (features, GPUs, memory); check spec.slurm.constraint, spec.slurm.mem, spec.gpus and spec.slurm.extraDirectives against what sinfo lists',
  InvalidAccount: 'the account does not exist or you may not use it; set spec.slurm.account to one of yours (sacctmgr show assoc user=$USER)',
  InvalidQOS: 'the QOS does not exist or your account may not use it; set spec.slurm.qos to one of yours (sacctmgr show assoc user=$USER format=account,qos)',
  AccountNotAllowed: "the partition does not allow the job's account; choose another spec.slurm.partition or spec.slurm.account",
  QOSNotAllowed: "the partition does not allow the job's QOS; choose another spec.slurm.partition or spec.slurm.qos",
  DependencyNeverSatisfied: 'a job this one depends on ended so that it can never start; check the --dependency in spec.slurm.extraDirectives',
};

// May clear on their own, but a person should know (a reservation, a node drained for maintenance).
const SURFACED: Record<string, string> = {
  ReqNodeNotAvail: 'nodes the job needs are unavailable (down, drained or reserved, for instance during a maintenance reservation); it starts once they return',
  PartitionDown: 'the partition is down; it starts once the administrators bring it up',
  PartitionInactive: 'the partition is inactive; it starts once the administrators activate it',
  NodeDown: 'a node the job needs is down',
  JobHeldAdmin: 'an administrator holds the job',
};

/** How long an administrator's hold is waited out before the job is given up. */
export const ADMIN_HOLD_BOUND_MS = 10 * 60_000;

/** `ReqNodeNotAvail,_UnavailableNodes:n1` and `QOSMaxWallDurationPerJobLimit` alike: the reason's first word. */
const reasonKey = (reason: string): string => reason.split(/[,(\s]/)[0];

export function pendingVerdict(reason: string | undefined, pendingForMs = 0): PendingVerdict {
  if (!reason) return { action: 'wait' };
  const key = reasonKey(reason);
  if (key in NEVER_STARTS) return { action: 'fail', message: `${key}: ${NEVER_STARTS[key]}` };
  if (key === 'JobHeldAdmin' && pendingForMs >= ADMIN_HOLD_BOUND_MS) {
    return { action: 'fail', message: `JobHeldAdmin: an administrator has held the job for more than ${ADMIN_HOLD_BOUND_MS / 60_000} minutes; ask them why, or release it (scontrol release) and aifb will launch again` };
  }
  if (key in SURFACED) return { action: 'surface', message: `${key}: ${SURFACED[key]}` };
  return { action: 'wait' };
}

// sbatch refusals no resubmission can get past: the job names an account, QOS
// or partition this user may not use. Each says what is wrong and how to find
// what is allowed; `FIELD` stands for where the launch's slurm settings are.
const REFUSED_FOR_GOOD: Array<[RegExp, string]> = [
  [
    /Invalid account or account\/partition combination/i,
    'FIELD.account names an account that does not exist, that you are not a user of, or that may not use FIELD.partition; set FIELD.account to one of yours (sacctmgr show assoc user=$USER format=account,partition)',
  ],
  [/Invalid qos specification/i, 'FIELD.qos names a QOS that does not exist or that your account may not use; set FIELD.qos to one of yours (sacctmgr show assoc user=$USER format=account,qos)'],
  [/Invalid partition name specified/i, "FIELD.partition names a partition this cluster does not have; set it to one that sinfo lists (sinfo -o '%P %l')"],
];

/**
 * What is wrong when sbatch refused a job for good (undefined for any other
 * failure, which may pass on another try). `field` is the path of the launch's
 * slurm settings: spec.slurm, or spec.runner.slurm for a Benchmark's runner.
 */
export function submitRefusal(stderr: string, field: string): string | undefined {
  const hit = REFUSED_FOR_GOOD.find(([words]) => words.test(stderr));
  return hit ? hit[1].replaceAll('FIELD', field) : undefined;
}
