// The Benchmark lifecycle as a pure XState machine: wait for the service, launch
// the runner, watch it, collect results, retry with backoff, stop on DELETE.
import { assign, fromCallback, fromPromise, setup, type EventObject, type SnapshotFrom } from 'xstate';
import type { Phase, ResultsSummary } from '../api/schemas.js';
import type { RunnerLine } from '../api/runner-contract.js';
import type { RetryPolicy } from './backoff.js';
import { canRetry, failureOf, isTerminal, notProvided, retryDelay, stateNameOf, type Failure } from './lifecycle.js';

/** Bump whenever states, context or events change shape: older persisted snapshots are then dropped. */
export const MACHINE_VERSION = 'benchmark/1';

export interface BenchmarkInput {
  name: string;
  generation: number;
  /** True when the benchmark targets a service that must be Ready before the runner starts. */
  needsService: boolean;
  retries: RetryPolicy;
}

/** The live numbers of a progress line, merged across ranks by the watcher. */
export type RunnerProgress = Pick<Extract<RunnerLine, { event: 'progress' }>, 'elapsedMs' | 'requests' | 'errors' | 'rps' | 'p99Ms'>;

/** JSON-serialisable on purpose: it is persisted as-is. Times are epoch ms returned by actors. */
export interface BenchmarkContext extends BenchmarkInput {
  attempt: number;
  runId?: string;
  progress?: RunnerProgress;
  lastError?: Failure;
  results?: ResultsSummary;
  /** Report format -> path, as written by collectResults. */
  reports?: Record<string, string>;
  startedAt?: number;
  completedAt?: number;
}

export interface LaunchRunnerInput {
  name: string;
  generation: number;
  attempt: number;
}
export interface LaunchedRunner {
  runId: string;
  startedAt: number;
}
export interface RunnerRef {
  runId: string;
  attempt: number;
}
export interface CollectedResults {
  results: ResultsSummary;
  reports: Record<string, string>;
  completedAt: number;
}
export interface StopRunnerInput {
  /** Absent when DELETE arrives before a launch returned: the stop must then find the attempt by name. */
  runId?: string;
  attempt: number;
}

export type RunnerExited = { type: 'RUNNER_EXITED'; exitCode: number; reason?: string; retryable: boolean };

/** What watchRunner sends back: any number of PROGRESS, then one RUNNER_EXITED. */
export type RunnerWatchEvent = { type: 'PROGRESS'; progress: RunnerProgress } | RunnerExited;

export type BenchmarkEvent =
  | { type: 'SERVICE_READY' }
  | { type: 'SERVICE_FAILED'; reason: string; message: string }
  | RunnerWatchEvent
  | { type: 'DELETE' }
  /** Send after starting a restored actor: timers are not persisted, so `retrying` re-arms its backoff. */
  | { type: 'RESUME' };

/**
 * Effects, all provided by the reconciler. A running promise actor restarts when
 * a persisted snapshot is restored, so launchRunner and collectResults must be
 * idempotent: look for the attempt's run (deterministic name) before launching,
 * and re-read result files rather than consuming them. launchRunner for attempt N
 * should also clear whatever an earlier attempt left behind.
 */
const actors = {
  launchRunner: fromPromise<LaunchedRunner, LaunchRunnerInput>(async () => notProvided('benchmark', 'launchRunner')),
  /** Sends PROGRESS and exactly one RUNNER_EXITED; its cleanup stops watching, not the runner. */
  watchRunner: fromCallback<EventObject, RunnerRef>(() => notProvided('benchmark', 'watchRunner')),
  collectResults: fromPromise<CollectedResults, RunnerRef>(async () => notProvided('benchmark', 'collectResults')),
  /** Must succeed when there is nothing left to stop. */
  stopRunner: fromPromise<void, StopRunnerInput>(async () => notProvided('benchmark', 'stopRunner')),
};

function exitFailure(event: RunnerExited, attempt: number): Failure {
  const detail = event.reason ? `: ${event.reason}` : '';
  return event.retryable
    ? { reason: 'RunnerFailed', message: `runner attempt ${attempt} exited with code ${event.exitCode}${detail}` }
    : {
        reason: 'RunnerConfigError',
        message: `runner attempt ${attempt} exited with code ${event.exitCode}${detail}; retrying cannot help, fix the benchmark spec and save the file`,
      };
}

/**
 * succeeded and failed are not final: the actor stays alive so the reconciler has
 * one deletion path for every state (send DELETE, wait for `stopped`, the only
 * final state). stopRunner is then a cheap no-op.
 */
export const benchmarkMachine = setup({
  types: {
    input: {} as BenchmarkInput,
    context: {} as BenchmarkContext,
    events: {} as BenchmarkEvent,
  },
  actors,
  guards: {
    canRetry: ({ context }) => canRetry(context),
  },
  delays: {
    retryBackoff: ({ context }) => retryDelay(context),
  },
}).createMachine({
  id: 'benchmark',
  version: MACHINE_VERSION,
  context: ({ input }) => ({ ...input, retries: { ...input.retries }, attempt: 0 }),
  initial: 'deciding',
  states: {
    // Transient: picks the first resting state from input, so the initial state is data-driven.
    deciding: {
      always: [{ guard: ({ context }) => context.needsService, target: 'waitingForService' }, { target: 'starting' }],
    },
    waitingForService: {
      on: {
        SERVICE_READY: 'starting',
        SERVICE_FAILED: {
          target: 'failed',
          actions: assign({
            lastError: ({ event }) => ({ reason: 'ServiceFailed', message: `service failed (${event.reason}): ${event.message}` }),
          }),
        },
        DELETE: 'terminating',
      },
    },
    starting: {
      entry: assign({ attempt: ({ context }) => context.attempt + 1, progress: undefined }),
      invoke: {
        src: 'launchRunner',
        input: ({ context }) => ({ name: context.name, generation: context.generation, attempt: context.attempt }),
        onDone: {
          target: 'running',
          actions: assign({ runId: ({ event }) => event.output.runId, startedAt: ({ event }) => event.output.startedAt }),
        },
        onError: [
          { guard: ({ event }) => isTerminal(event.error), target: 'failed', actions: assign({ lastError: ({ event }) => failureOf(event.error, 'LaunchFailed') }) },
          { target: 'retryOrFail', actions: assign({ lastError: ({ event }) => failureOf(event.error, 'LaunchFailed') }) },
        ],
      },
      on: { DELETE: 'terminating' },
    },
    running: {
      invoke: {
        src: 'watchRunner',
        // runId is set by launchRunner's onDone before this state is entered.
        input: ({ context }) => ({ runId: context.runId!, attempt: context.attempt }),
        onError: { target: 'retryOrFail', actions: assign({ lastError: ({ event }) => failureOf(event.error, 'RunnerLost') }) },
      },
      on: {
        PROGRESS: { actions: assign({ progress: ({ event }) => ({ ...event.progress }) }) },
        RUNNER_EXITED: [
          { guard: ({ event }) => event.exitCode === 0, target: 'collecting' },
          { guard: ({ event }) => event.retryable, target: 'retryOrFail', actions: assign({ lastError: ({ context, event }) => exitFailure(event, context.attempt) }) },
          { target: 'failed', actions: assign({ lastError: ({ context, event }) => exitFailure(event, context.attempt) }) },
        ],
        DELETE: 'terminating',
      },
    },
    collecting: {
      invoke: {
        src: 'collectResults',
        input: ({ context }) => ({ runId: context.runId!, attempt: context.attempt }),
        onDone: {
          target: 'succeeded',
          actions: assign({
            results: ({ event }) => event.output.results,
            reports: ({ event }) => ({ ...event.output.reports }),
            completedAt: ({ event }) => event.output.completedAt,
            lastError: undefined,
          }),
        },
        onError: [
          { guard: ({ event }) => isTerminal(event.error), target: 'failed', actions: assign({ lastError: ({ event }) => failureOf(event.error, 'ResultsUnreadable') }) },
          { target: 'retryOrFail', actions: assign({ lastError: ({ event }) => failureOf(event.error, 'ResultsUnreadable') }) },
        ],
      },
      on: { DELETE: 'terminating' },
    },
    // Transient: lastError is already recorded by the transition that led here.
    retryOrFail: {
      always: [{ guard: 'canRetry', target: 'retrying' }, { target: 'failed' }],
    },
    retrying: {
      after: { retryBackoff: 'starting' },
      on: {
        RESUME: { target: 'retrying', reenter: true },
        DELETE: 'terminating',
      },
    },
    succeeded: {
      on: { DELETE: 'terminating' },
    },
    failed: {
      on: { DELETE: 'terminating' },
    },
    terminating: {
      invoke: {
        src: 'stopRunner',
        input: ({ context }) => ({ runId: context.runId, attempt: context.attempt }),
        onDone: 'stopped',
        // The runner may be gone already; deletion must not hang on a failed stop.
        onError: 'stopped',
      },
    },
    stopped: { type: 'final' },
  },
});

export type BenchmarkSnapshot = SnapshotFrom<typeof benchmarkMachine>;
export type BenchmarkStateName = Extract<BenchmarkSnapshot['value'], string>;
export type BenchmarkPhase = Extract<Phase, 'Waiting' | 'Starting' | 'Running' | 'Collecting' | 'Retrying' | 'Succeeded' | 'Failed' | 'Terminating'>;

const PHASE_OF: Record<BenchmarkStateName, BenchmarkPhase> = {
  deciding: 'Starting',
  waitingForService: 'Waiting',
  starting: 'Starting',
  running: 'Running',
  collecting: 'Collecting',
  retryOrFail: 'Retrying',
  retrying: 'Retrying',
  succeeded: 'Succeeded',
  failed: 'Failed',
  terminating: 'Terminating',
  // Deleted resources leave the API; Terminating is the last phase a user sees.
  stopped: 'Terminating',
};

export const benchmarkStateName = (snapshot: BenchmarkSnapshot): BenchmarkStateName => stateNameOf(snapshot.value) as BenchmarkStateName;

export const benchmarkPhase = (snapshot: BenchmarkSnapshot): BenchmarkPhase => PHASE_OF[benchmarkStateName(snapshot)];
