// The Service lifecycle as a pure XState machine: start it (or take the given
// endpoint), wait until it answers, watch it, retry with backoff, stop on DELETE.
import { assign, fromCallback, fromPromise, setup, type EventObject, type SnapshotFrom } from 'xstate';
import type { RetryPolicy } from './backoff.js';
import {
  canRetry,
  exitFailure,
  failureOf,
  isTerminal,
  LIFECYCLE_PHASE,
  notProvided,
  retryDelay,
  stateNameOf,
  type ExitedEvent,
  type Failure,
  type LifecyclePhase,
} from './lifecycle.js';

/** Bump whenever states, context or events change shape: older persisted snapshots are then dropped. */
export const MACHINE_VERSION = 'service/1';

/** Where a started service answers; what clients need beyond this is the reconciler's to publish. */
export interface ServiceEndpoint {
  host: string;
  port: number;
}

interface ServiceBase {
  name: string;
  generation: number;
  retries: RetryPolicy;
}
/** `external` means spec.endpoint was given: nothing is launched, the endpoint is only checked. */
export type ServiceInput = ServiceBase & ({ external: false; endpoint?: undefined } | { external: true; endpoint: ServiceEndpoint });

/** JSON-serialisable on purpose: it is persisted as-is. */
export interface ServiceContext extends ServiceBase {
  external: boolean;
  /** 1-based attempt; 0 before the first. */
  attempt: number;
  /** Where the service answers: from startService, or the input for an external one. */
  endpoint?: ServiceEndpoint;
  lastError?: Failure;
}

export interface StartServiceInput {
  name: string;
  generation: number;
  attempt: number;
}
export interface StartedService {
  endpoint: ServiceEndpoint;
}
export interface ServiceAttempt {
  endpoint: ServiceEndpoint;
  attempt: number;
}
export interface StopServiceInput {
  name: string;
  generation: number;
  attempt: number;
  external: boolean;
}

/** What watchService sends back, once, if the service goes away. */
export type ServiceWatchEvent = ExitedEvent<'SERVICE_EXITED'>;

export type ServiceEvent =
  | ServiceWatchEvent
  | { type: 'DELETE' }
  /** Send after starting a restored actor: timers are not persisted, so `retrying` re-arms its backoff. */
  | { type: 'RESUME' };

/**
 * Effects, all provided by the reconciler. Running promise actors restart when a
 * persisted snapshot is restored, so each must be idempotent: startService looks
 * for the attempt's job (deterministic name) before submitting, and also stops
 * anything an earlier attempt left behind.
 */
const actors = {
  startService: fromPromise<StartedService, StartServiceInput>(async () => notProvided('service', 'startService')),
  /** Resolves once the endpoint answers; rejects (reason ReadinessTimeout by default) when readiness.timeout passes. */
  waitReady: fromPromise<void, ServiceAttempt>(async () => notProvided('service', 'waitReady')),
  /** Sends SERVICE_EXITED once if the service goes away; its cleanup stops watching, not the service. */
  watchService: fromCallback<EventObject, ServiceAttempt>(() => notProvided('service', 'watchService')),
  /** Stops the given attempt; must succeed when nothing runs and do nothing for an external service. */
  stopService: fromPromise<void, StopServiceInput>(async () => notProvided('service', 'stopService')),
};

const stopInput = ({ context }: { context: ServiceContext }): StopServiceInput => ({
  name: context.name,
  generation: context.generation,
  attempt: context.attempt,
  external: context.external,
});

/**
 * failed is not final, so DELETE has one path from every state (terminating ->
 * stopped, the only final state). retrying and failed both stop the failed
 * attempt first: a service stuck loading a model would otherwise keep its GPUs.
 */
export const serviceMachine = setup({
  types: {
    input: {} as ServiceInput,
    context: {} as ServiceContext,
    events: {} as ServiceEvent,
  },
  actors,
  guards: {
    canRetry: ({ context }) => canRetry(context),
    isExternal: ({ context }) => context.external,
  },
  delays: {
    retryBackoff: ({ context }) => retryDelay(context),
  },
}).createMachine({
  id: 'service',
  version: MACHINE_VERSION,
  context: ({ input }) => ({
    name: input.name,
    generation: input.generation,
    retries: { ...input.retries },
    external: input.external,
    endpoint: input.endpoint ? { ...input.endpoint } : undefined,
    attempt: 0,
  }),
  initial: 'nextAttempt',
  states: {
    // Transient: counts the attempt, then launches or, for an external service, only checks.
    nextAttempt: {
      entry: assign({ attempt: ({ context }) => context.attempt + 1 }),
      always: [{ guard: 'isExternal', target: 'checking' }, { target: 'starting' }],
    },
    starting: {
      invoke: {
        src: 'startService',
        input: ({ context }) => ({ name: context.name, generation: context.generation, attempt: context.attempt }),
        onDone: { target: 'checking', actions: assign({ endpoint: ({ event }) => ({ ...event.output.endpoint }) }) },
        onError: [
          { guard: ({ event }) => isTerminal(event.error), target: 'failed', actions: assign({ lastError: ({ event }) => failureOf(event.error, 'StartFailed') }) },
          { target: 'retryOrFail', actions: assign({ lastError: ({ event }) => failureOf(event.error, 'StartFailed') }) },
        ],
      },
      on: { DELETE: 'terminating' },
    },
    checking: {
      invoke: {
        src: 'waitReady',
        // Set by startService's onDone, or from the input for an external service.
        input: ({ context }) => ({ endpoint: context.endpoint!, attempt: context.attempt }),
        onDone: { target: 'ready', actions: assign({ lastError: undefined }) },
        onError: [
          { guard: ({ event }) => isTerminal(event.error), target: 'failed', actions: assign({ lastError: ({ event }) => failureOf(event.error, 'ReadinessTimeout') }) },
          { target: 'retryOrFail', actions: assign({ lastError: ({ event }) => failureOf(event.error, 'ReadinessTimeout') }) },
        ],
      },
      on: { DELETE: 'terminating' },
    },
    ready: {
      invoke: {
        src: 'watchService',
        input: ({ context }) => ({ endpoint: context.endpoint!, attempt: context.attempt }),
        onError: { target: 'retryOrFail', actions: assign({ lastError: ({ event }) => failureOf(event.error, 'ServiceLost') }) },
      },
      on: {
        SERVICE_EXITED: [
          { guard: ({ event }) => event.retryable, target: 'retryOrFail', actions: assign({ lastError: ({ event }) => exitFailure(event) }) },
          { target: 'failed', actions: assign({ lastError: ({ event }) => exitFailure(event) }) },
        ],
        DELETE: 'terminating',
      },
    },
    // Transient: lastError is already recorded by the transition that led here.
    retryOrFail: {
      always: [{ guard: 'canRetry', target: 'retrying' }, { target: 'failed' }],
    },
    retrying: {
      invoke: { src: 'stopService', input: stopInput, onError: {} },
      after: { retryBackoff: 'nextAttempt' },
      on: {
        RESUME: { target: 'retrying', reenter: true },
        DELETE: 'terminating',
      },
    },
    failed: {
      invoke: { src: 'stopService', input: stopInput, onError: {} },
      on: { DELETE: 'terminating' },
    },
    terminating: {
      invoke: {
        src: 'stopService',
        input: stopInput,
        onDone: 'stopped',
        // The service may be gone already; deletion must not hang on a failed stop.
        onError: 'stopped',
      },
    },
    stopped: { type: 'final' },
  },
});

export type ServiceSnapshot = SnapshotFrom<typeof serviceMachine>;
export type ServiceStateName = Extract<ServiceSnapshot['value'], string>;
export type ServicePhase = LifecyclePhase;

export const serviceStateName = (snapshot: ServiceSnapshot): ServiceStateName => stateNameOf(snapshot.value) as ServiceStateName;

export const servicePhase = (snapshot: ServiceSnapshot): ServicePhase => LIFECYCLE_PHASE[serviceStateName(snapshot)];
