// Waits for a launch to say where it landed: the endpoint file its job writes
// once it runs. Fails with the scheduler's reason if the launch ends first.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ActorFailure } from '../../machines/lifecycle.js';
import { EndpointRecord, type Executor, type LaunchState, type Launched } from '../executor/types.js';
import type { Clock } from '../runtime/clock.js';
import type { Logger } from '../runtime/logger.js';
import { pollUntil } from '../runtime/poll.js';

/**
 * What Apptainer says when the image does not exist or may not be read: retrying
 * cannot help. Anything else it fails on (a registry's rate limit, a full disk,
 * container creation) may pass on the next attempt. A missing program inside
 * the image and a mount's "permission denied" are not about the image.
 */
const FINAL_IMAGE_FAULT =
  /manifest unknown|name unknown|(?<!executable file )not found|\bimage\b.*does not exist|\.sif\b.*no such file|unauthorized|authentication required|(?<!permission )denied/i;

/** True when a log's last lines are Apptainer failing on an image that is missing or refused. */
export function isBadImage(tail: string): boolean {
  // Only Apptainer's own FATAL counts: the program's output may say "not found" about anything.
  return /FATAL:/.test(tail) && FINAL_IMAGE_FAULT.test(tail);
}

export function lastLines(file: string, n = 3): string {
  return existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n').slice(-n).join(' | ') : '';
}

/**
 * The shell's "command not found" (127) and "not executable" (126): a program
 * the job needs is not on the compute node (apptainer, node), which the next
 * attempt will not find either.
 */
export const MISSING_PROGRAM_HINT =
  'a program the job runs is not on the compute node: load it in slurm.setup (e.g. module load Apptainer) or controller run --job-setup, or put it on PATH';

export function isMissingProgram(exitCode: number | null | undefined): boolean {
  return exitCode === 127 || exitCode === 126;
}

/** Why a launch ended early, as a failure the machine can act on: a bad image or a missing program is never retried. */
export function launchEnded(launched: Launched, state: Extract<LaunchState, { state: 'exited' }>, what: string, reason: string): ActorFailure {
  const log = join(launched.dir, `${launched.ref.role}.stderr.log`);
  const tail = lastLines(log);
  const badImage = isBadImage(tail);
  const missing = !badImage && isMissingProgram(state.exitCode);
  return new ActorFailure(
    `${what} (${state.reason ?? `exit ${state.exitCode ?? 'unknown'}`})${missing ? `: ${MISSING_PROGRAM_HINT}` : ''}${tail ? `: ${tail}` : ''}; see ${log}`,
    badImage ? 'BadImage' : missing ? 'ProgramNotFound' : reason,
    !badImage && !missing && state.retryable !== false,
  );
}

/** The endpoint file's record, or undefined while there is none; a file that is not one throws (the poll reads it again). */
export function readEndpoint(file: string): EndpointRecord | undefined {
  if (!existsSync(file)) return undefined;
  const parsed = EndpointRecord.safeParse(JSON.parse(readFileSync(file, 'utf8')));
  if (!parsed.success) throw new Error(`${file} is not an endpoint record: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

/**
 * Whether this launch wrote the record: its launch id, and the SLURM job it
 * ran as or, locally, the process the executor started (the serve wrapper).
 * A file an earlier launch left in the same folder (the same name and
 * attempt of a deleted and re-created resource, a job of a forgotten launch)
 * names another job or process.
 */
export function writtenBy(record: EndpointRecord, launched: Launched): boolean {
  if (record.launchId !== launched.id) return false;
  if (launched.jobId !== undefined) return record.jobId === launched.jobId;
  return record.pid !== undefined && record.pid === launched.pids?.[0];
}

/**
 * Waits for the endpoint file the launch writes once it runs; fails with the scheduler's reason if the launch ends first.
 * With `own`, only a record this launch wrote counts (see writtenBy).
 */
export async function awaitEndpoint(
  deps: { executor: Executor; clock: Clock; log: Logger },
  launched: Launched,
  opts: { file: string; what: string; maxPendingMs?: number; signal: AbortSignal; own?: boolean },
): Promise<{ host: string; port: number }> {
  const submitted = deps.clock.now();
  let strangerSeen = false;
  return pollUntil(
    async () => {
      const ep = readEndpoint(opts.file);
      if (ep && (!opts.own || writtenBy(ep, launched))) return { host: ep.host, port: ep.port };
      if (ep && !strangerSeen) {
        strangerSeen = true;
        deps.log.warn('Ignored an endpoint file another launch wrote; waiting for this one to write its own', { what: opts.what, file: opts.file, record: ep });
      }
      const state = await deps.executor.state(launched);
      if (state.state === 'exited') throw launchEnded(launched, state, `${opts.what} ended before it started`, 'StartFailed');
      if (state.state === 'pending' && opts.maxPendingMs !== undefined && deps.clock.now() - submitted > opts.maxPendingMs) {
        await deps.executor.stop(launched);
        throw new ActorFailure(
          `${opts.what} waited in the queue longer than spec.slurm.maxPendingTime (last reason: ${state.reason ?? 'unknown'}); it was cancelled`,
          'PendingTooLong',
          false,
        );
      }
      return undefined;
    },
    {
      clock: deps.clock,
      intervalMs: 500,
      signal: opts.signal,
      what: opts.what,
      onError: (e, inARow) => {
        if (inARow === 1) deps.log.warn('Failed to check a starting launch; will keep trying', { what: opts.what, error: (e as Error).message });
      },
    },
  );
}
