// The long-running lifecycle as one pure XState machine factory: start (or take
// what is given), wait until it answers, watch it, retry with backoff, stop on
// DELETE. Service and MonitoringStack are two instances of it; `S` is what a
// start returns (a service's endpoint, a stack's endpoints).
import { assign, fromCallback, fromPromise, setup, type EventObject } from 'xstate';
import type { RetryPolicy } from './backoff.js';
import {
  exitFailure,
  failOr,
  failureOf,
  notProvided,
  retryDelays,
  retryGuards,
  retryStates,
  stateNameOf,
  type ExitedEvent,
  type Failure,
  type LifecyclePhase,
  type StopInput,
} from './lifecycle.js';

export interface LifecycleInput<S> {
  name: string;
  generation: number;
  retries: RetryPolicy;
  /** Given when nothing is to be launched (a service that runs elsewhere): only checked and watched. */
  given?: S;
}

/** JSON-serialisable on purpose: it is persisted as-is. */
export interface LifecycleContext<S> {
  name: string;
  generation: number;
  retries: RetryPolicy;
  external: boolean;
  /** 1-based attempt; 0 before the first. */
  attempt: number;
  /** What the current attempt's start returned (or what was given). */
  started?: S;
  lastError?: Failure;
  /** Attempts started again after a planned end (see ExitedEvent.relaunch). */
  relaunches?: number;
}

export interface StartInput {
  name: string;
  generation: number;
  attempt: number;
}

export interface AttemptOf<S> {
  started: S;
  attempt: number;
}

export type LifecycleEvent =
  | ExitedEvent
  | { type: 'DELETE' }
  /** Send after starting a restored actor: timers are not persisted, so `backoff` re-arms. */
  | { type: 'RESUME' }
  /**
   * Start attempt `attempt` again as a fresh launch (a new job, a new time limit)
   * although it runs fine: its job ends before what needs it would. Naming the
   * attempt makes the request idempotent: however many ask while one attempt is
   * short, that attempt is renewed once, and a request for an earlier one is moot.
   */
  | { type: 'RENEW'; attempt: number; message: string };

/** State name -> phase, for every machine the factory makes. */
export const LIFECYCLE_PHASE = {
  nextAttempt: 'Starting',
  starting: 'Starting',
  checking: 'Starting',
  ready: 'Ready',
  relaunching: 'Starting',
  retryOrFail: 'Retrying',
  retrying: 'Retrying',
  backoff: 'Retrying',
  failed: 'Failed',
  terminating: 'Terminating',
  // Deleted resources leave the API; Terminating is the last phase a user sees.
  stopped: 'Terminating',
} as const satisfies Record<string, LifecyclePhase>;

export type LifecycleStateName = keyof typeof LIFECYCLE_PHASE;

export const lifecyclePhase = (snapshot: { value: unknown }): LifecyclePhase => LIFECYCLE_PHASE[stateNameOf(snapshot.value) as LifecycleStateName];

/**
 * Effects, all provided by the reconciler. A running promise actor restarts
 * when a persisted snapshot is restored, so each must be safe to run again:
 * start looks for the attempt's launch (deterministic name) before launching;
 * stop succeeds when nothing runs.
 */
export function lifecycleMachine<S>(id: string, version: string) {
  return setup({
    types: {
      input: {} as LifecycleInput<S>,
      context: {} as LifecycleContext<S>,
      events: {} as LifecycleEvent,
    },
    actors: {
      start: fromPromise<S, StartInput>(async () => notProvided(id, 'start')),
      /** Resolves once it answers; rejects (reason ReadinessTimeout by default) when readiness.timeout passes. */
      waitReady: fromPromise<void, AttemptOf<S>>(async () => notProvided(id, 'waitReady')),
      /** Sends EXITED once if it goes away; its cleanup stops watching, not the service. */
      watch: fromCallback<EventObject, AttemptOf<S>>(() => notProvided(id, 'watch')),
      stop: fromPromise<void, StopInput>(async () => notProvided(id, 'stop')),
    },
    guards: {
      ...retryGuards,
      isExternal: ({ context }) => context.external,
      isRetryableExit: ({ event }) => (event as ExitedEvent).retryable,
      isRelaunch: ({ event }) => (event as ExitedEvent).relaunch === true,
      // Something given (spec.endpoint) is not ours to start again.
      isRenewalOfThisAttempt: ({ context, event }) => !context.external && (event as { attempt: number }).attempt === context.attempt,
    },
    actions: {
      recordError: assign({ lastError: ({ event }, params: { reason: string }) => failureOf((event as { error?: unknown }).error, params.reason) }),
      recordExit: assign({ lastError: ({ event }) => exitFailure(event as ExitedEvent) }),
      // Like a planned end: the next attempt uses up no retry.
      countRelaunch: assign({ relaunches: ({ context }) => (context.relaunches ?? 0) + 1 }),
    },
    delays: retryDelays,
  }).createMachine({
    id,
    version,
    context: ({ input }) => ({
      name: input.name,
      generation: input.generation,
      retries: { ...input.retries },
      external: input.given !== undefined,
      started: input.given,
      attempt: 0,
    }),
    initial: 'nextAttempt',
    states: {
      // Transient: counts the attempt, then launches or, when something was given, only checks.
      nextAttempt: {
        entry: assign({ attempt: ({ context }) => context.attempt + 1 }),
        always: [{ guard: 'isExternal', target: 'checking' }, { target: 'starting' }],
      },
      starting: {
        invoke: {
          src: 'start',
          input: ({ context }) => ({ name: context.name, generation: context.generation, attempt: context.attempt }),
          onDone: { target: 'checking', actions: assign({ started: ({ event }) => event.output }) },
          onError: failOr('StartFailed'),
        },
        on: { DELETE: 'terminating' },
      },
      checking: {
        invoke: {
          src: 'waitReady',
          // Set by start's onDone, or given in the input.
          input: ({ context }) => ({ started: context.started!, attempt: context.attempt }),
          onDone: { target: 'ready', actions: assign({ lastError: undefined }) },
          onError: failOr('ReadinessTimeout'),
        },
        on: { DELETE: 'terminating' },
      },
      ready: {
        invoke: {
          src: 'watch',
          input: ({ context }) => ({ started: context.started!, attempt: context.attempt }),
          onError: failOr('Lost'),
        },
        on: {
          EXITED: [
            { guard: 'isRelaunch', target: 'relaunching', actions: ['recordExit', 'countRelaunch'] },
            { guard: 'isRetryableExit', target: 'retryOrFail', actions: 'recordExit' },
            { target: 'failed', actions: 'recordExit' },
          ],
          RENEW: {
            guard: 'isRenewalOfThisAttempt',
            target: 'relaunching',
            actions: [assign({ lastError: ({ event }) => ({ reason: 'Renewal', message: event.message }) }), 'countRelaunch'],
          },
          DELETE: 'terminating',
        },
      },
      // What ended as planned, or is renewed, is stopped and started again at once, without backoff.
      relaunching: {
        invoke: { src: 'stop', input: ({ context }) => ({ attempt: context.attempt }), onDone: 'nextAttempt', onError: 'nextAttempt' },
        on: { DELETE: 'terminating' },
      },
      ...retryStates,
    },
  });
}

export type LifecycleMachine<S> = ReturnType<typeof lifecycleMachine<S>>;
