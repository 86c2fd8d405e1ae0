// The Benchmark lifecycle as a pure XState machine: wait for the service, launch
// the runner, watch it, collect results, retry with backoff, stop on DELETE.
import { assign, fromCallback, fromPromise, setup, type EventObject, type SnapshotFrom } from 'xstate';
import type { Phase, ResultsSummary } from '../api/schemas.js';
import type { RunnerLine } from '../api/runner-contract.js';
import type { RetryPolicy } from './backoff.js';
import { failOr, failureOf, notProvided, retryDelays, retryGuards, retryStates, stateNameOf, type Failure, type StopInput } from './lifecycle.js';

/** Bump whenever states, context or events change shape: older persisted snapshots are then dropped. */
export const MACHINE_VERSION = 'benchmark/4';

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
  /** The service's attempt the current run was started against: another attempt is another server. */
  serviceAttempt?: number;
  /** Attempts after an interruption by the service: they use up no retry (canRetry). */
  relaunches?: number;
  /** While the service is renewed for this run: which of its attempts was too short, and why. */
  renewal?: { attempt: number; message: string };
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
export interface InterruptInput extends RunnerRef {
  message: string;
}
export interface CollectedResults {
  results: ResultsSummary;
  reports: Record<string, string>;
  completedAt: number;
}

export type RunnerExited = { type: 'RUNNER_EXITED'; exitCode: number; reason?: string; retryable: boolean };

/** What watchRunner sends back: any number of PROGRESS, then one RUNNER_EXITED. */
export type RunnerWatchEvent = { type: 'PROGRESS'; progress: RunnerProgress } | RunnerExited;

export type BenchmarkEvent =
  | { type: 'SERVICE_READY'; attempt?: number }
  /** The service left Ready (or was started again) while a run used it. */
  | { type: 'SERVICE_LOST'; message: string }
  | { type: 'SERVICE_FAILED'; reason: string; message: string }
  /** The service is Ready, but its job ends before the run would: it is to be renewed first. */
  | { type: 'SERVICE_TIME_SHORT'; attempt: number; message: string }
  /** No job of the service lasts the run (its time limit, or its start-up): retrying cannot help. */
  | { type: 'SERVICE_TIME_TOO_SHORT'; message: string }
  | RunnerWatchEvent
  | { type: 'DELETE' }
  /** Send after starting a restored actor: timers are not persisted, so `retrying` re-arms its backoff. */
  | { type: 'RESUME' };

/**
 * Effects, all provided by the reconciler. A running promise actor restarts when
 * a persisted snapshot is restored, so launchRunner and collectResults must be
 * idempotent: look for the attempt's run (deterministic name) before launching,
 * and re-read result files rather than consuming them. A failed attempt is
 * stopped (`stop`, in `retrying`) before the next one is launched.
 */
const actors = {
  launchRunner: fromPromise<LaunchedRunner, LaunchRunnerInput>(async () => notProvided('benchmark', 'launchRunner')),
  /** Sends PROGRESS and exactly one RUNNER_EXITED; its cleanup stops watching, not the runner. */
  watchRunner: fromCallback<EventObject, RunnerRef>(() => notProvided('benchmark', 'watchRunner')),
  collectResults: fromPromise<CollectedResults, RunnerRef>(async () => notProvided('benchmark', 'collectResults')),
  /** Stops a run whose service went away and marks it interrupted (not a result, not an SLO failure). */
  interruptRunner: fromPromise<void, InterruptInput>(async () => notProvided('benchmark', 'interruptRunner')),
  /** Stops the attempt's runner; must succeed when there is nothing left to stop. */
  stop: fromPromise<void, StopInput>(async () => notProvided('benchmark', 'stop')),
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
 * final state). The retry, failure and stop states are the lifecycle's (lifecycle.ts).
 */
export const benchmarkMachine = setup({
  types: {
    input: {} as BenchmarkInput,
    context: {} as BenchmarkContext,
    events: {} as BenchmarkEvent,
  },
  actors,
  guards: {
    ...retryGuards,
    needsService: ({ context }) => context.needsService,
    runnerSucceeded: ({ event }) => (event as RunnerExited).exitCode === 0,
    isRetryableExit: ({ event }) => (event as RunnerExited).retryable,
  },
  actions: {
    recordError: assign({ lastError: ({ event }, params: { reason: string }) => failureOf((event as { error?: unknown }).error, params.reason) }),
    recordExit: assign({ lastError: ({ context, event }) => exitFailure(event as RunnerExited, context.attempt) }),
    recordInterruption: assign({
      lastError: ({ context, event }) => ({ reason: 'ServiceInterrupted', message: `run ${context.runId ?? ''} (attempt ${context.attempt}) was interrupted: ${(event as { message: string }).message}` }),
      // The next attempt uses up no retry: the service's end was not the run's fault.
      relaunches: ({ context }) => (context.relaunches ?? 0) + 1,
    }),
    recordServiceAttempt: assign({ serviceAttempt: ({ event }) => (event as { attempt?: number }).attempt }),
    recordServiceFailure: assign({
      lastError: ({ event }) => {
        const e = event as { reason: string; message: string };
        return { reason: 'ServiceFailed', message: `service failed (${e.reason}): ${e.message}` };
      },
    }),
    recordRenewal: assign({ renewal: ({ event }) => ({ attempt: (event as { attempt: number }).attempt, message: (event as { message: string }).message }) }),
    recordTooShort: assign({ lastError: ({ event }) => ({ reason: 'ServiceTimeTooShort', message: (event as { message: string }).message }), renewal: undefined }),
  },
  delays: retryDelays,
}).createMachine({
  id: 'benchmark',
  version: MACHINE_VERSION,
  context: ({ input }) => ({ ...input, retries: { ...input.retries }, attempt: 0 }),
  initial: 'deciding',
  states: {
    // Transient: picks the first resting state from input, so the initial state is data-driven.
    deciding: {
      always: [{ guard: 'needsService', target: 'waitingForService' }, { target: 'nextAttempt' }],
    },
    // Every attempt that uses a service passes here (the first, a retry, a rerun after an
    // interruption), so each starts against a service that is Ready and lasts the run.
    waitingForService: {
      on: {
        SERVICE_READY: { target: 'nextAttempt', actions: 'recordServiceAttempt' },
        SERVICE_TIME_SHORT: { target: 'renewingService', actions: 'recordRenewal' },
        SERVICE_FAILED: { target: 'failed', actions: 'recordServiceFailure' },
        SERVICE_TIME_TOO_SHORT: { target: 'failed', actions: 'recordTooShort' },
        DELETE: 'terminating',
      },
    },
    // The service's job would end mid-run: the reconciler asks for a fresh one (status.renewal)
    // and the run starts once that is Ready. No runner was started, so nothing is interrupted.
    renewingService: {
      on: {
        SERVICE_READY: { target: 'nextAttempt', actions: ['recordServiceAttempt', assign({ renewal: undefined })] },
        SERVICE_TIME_SHORT: { actions: 'recordRenewal' },
        SERVICE_FAILED: { target: 'failed', actions: 'recordServiceFailure' },
        SERVICE_TIME_TOO_SHORT: { target: 'failed', actions: 'recordTooShort' },
        DELETE: 'terminating',
      },
    },
    // Transient: counts the attempt.
    nextAttempt: {
      entry: assign({ attempt: ({ context }) => context.attempt + 1, progress: undefined }),
      always: 'starting',
    },
    starting: {
      invoke: {
        src: 'launchRunner',
        input: ({ context }) => ({ name: context.name, generation: context.generation, attempt: context.attempt }),
        onDone: {
          target: 'running',
          actions: assign({ runId: ({ event }) => event.output.runId, startedAt: ({ event }) => event.output.startedAt }),
        },
        onError: failOr('LaunchFailed'),
      },
      on: { DELETE: 'terminating', SERVICE_LOST: { target: 'interrupted', actions: 'recordInterruption' } },
    },
    running: {
      invoke: {
        src: 'watchRunner',
        // runId is set by launchRunner's onDone before this state is entered.
        input: ({ context }) => ({ runId: context.runId!, attempt: context.attempt }),
        onError: failOr('RunnerLost'),
      },
      on: {
        PROGRESS: { actions: assign({ progress: ({ event }) => ({ ...event.progress }) }) },
        RUNNER_EXITED: [
          { guard: 'runnerSucceeded', target: 'collecting' },
          { guard: 'isRetryableExit', target: 'retryOrFail', actions: 'recordExit' },
          { target: 'failed', actions: 'recordExit' },
        ],
        SERVICE_LOST: { target: 'interrupted', actions: 'recordInterruption' },
        DELETE: 'terminating',
      },
    },
    // The service went away mid-run: the runner is stopped, its run marked interrupted, and the
    // benchmark waits for the service again; no retry is used up (the run measured nothing wrong).
    interrupted: {
      invoke: {
        src: 'interruptRunner',
        input: ({ context }) => ({ runId: context.runId ?? '', attempt: context.attempt, message: context.lastError?.message ?? '' }),
        onDone: 'waitingForService',
        onError: 'waitingForService',
      },
      on: { DELETE: 'terminating' },
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
        onError: failOr('ResultsUnreadable'),
      },
      on: { DELETE: 'terminating' },
    },
    succeeded: {
      on: { DELETE: 'terminating' },
    },
    ...retryStates,
    // A retry that uses a service waits for it first: it may have been started again, or be short of time, meanwhile.
    backoff: {
      ...retryStates.backoff,
      after: { retryBackoff: [{ guard: 'needsService', target: 'waitingForService' }, { target: 'nextAttempt' }] },
    },
  },
});

export type BenchmarkSnapshot = SnapshotFrom<typeof benchmarkMachine>;
export type BenchmarkStateName = Extract<BenchmarkSnapshot['value'], string>;
export type BenchmarkPhase = Extract<Phase, 'Waiting' | 'Starting' | 'Running' | 'Collecting' | 'Retrying' | 'Succeeded' | 'Failed' | 'Terminating'>;

const PHASE_OF: Record<BenchmarkStateName, BenchmarkPhase> = {
  deciding: 'Starting',
  waitingForService: 'Waiting',
  renewingService: 'Waiting',
  nextAttempt: 'Starting',
  starting: 'Starting',
  running: 'Running',
  interrupted: 'Retrying',
  collecting: 'Collecting',
  retryOrFail: 'Retrying',
  retrying: 'Retrying',
  backoff: 'Retrying',
  succeeded: 'Succeeded',
  failed: 'Failed',
  terminating: 'Terminating',
  // Deleted resources leave the API; Terminating is the last phase a user sees.
  stopped: 'Terminating',
};

export const benchmarkStateName = (snapshot: BenchmarkSnapshot): BenchmarkStateName => stateNameOf(snapshot.value) as BenchmarkStateName;

export const benchmarkPhase = (snapshot: BenchmarkSnapshot): BenchmarkPhase => PHASE_OF[benchmarkStateName(snapshot)];
