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
