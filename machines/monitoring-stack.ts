// The MonitoringStack lifecycle (Prometheus, Pushgateway, Grafana) as a pure XState
// machine: the same start -> check -> ready -> retry shape as a Service, several endpoints.
import { assign, fromCallback, fromPromise, setup, type EventObject, type SnapshotFrom } from 'xstate';
import type { MonitoringStackSpec } from '../api/schemas.js';
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
import type { ServiceEndpoint } from './service.js';

/** Bump whenever states, context or events change shape: older persisted snapshots are then dropped. */
export const MACHINE_VERSION = 'monitoring-stack/1';

export type StackComponent = Exclude<keyof MonitoringStackSpec, 'slurm'>;
/** Only enabled components appear. */
export type StackEndpoints = Partial<Record<StackComponent, ServiceEndpoint>>;

export interface MonitoringStackInput {
  name: string;
  generation: number;
  retries: RetryPolicy;
}

/** JSON-serialisable on purpose: it is persisted as-is. */
export interface MonitoringStackContext extends MonitoringStackInput {
  /** 1-based attempt; 0 before the first. */
  attempt: number;
  endpoints?: StackEndpoints;
  lastError?: Failure;
}

export interface StartStackInput {
  name: string;
  generation: number;
  attempt: number;
}
export interface StartedStack {
  endpoints: StackEndpoints;
}
export interface StackAttempt {
  endpoints: StackEndpoints;
  attempt: number;
}
export interface StopStackInput {
  name: string;
  generation: number;
  attempt: number;
}

/** What watchStack sends back, once, if a component goes away. */
export type StackWatchEvent = ExitedEvent<'STACK_EXITED'>;

export type MonitoringStackEvent =
  | StackWatchEvent
  | { type: 'DELETE' }
  /** Send after starting a restored actor: timers are not persisted, so `retrying` re-arms its backoff. */
  | { type: 'RESUME' };

/**
 * Effects, all provided by the reconciler, idempotent for the same reason as
 * the Service's: running promise actors restart when a snapshot is restored.
 */
const actors = {
  startStack: fromPromise<StartedStack, StartStackInput>(async () => notProvided('monitoringStack', 'startStack')),
  /** Resolves once every enabled component answers; rejects (reason ReadinessTimeout by default) otherwise. */
  waitReady: fromPromise<void, StackAttempt>(async () => notProvided('monitoringStack', 'waitReady')),
  /** Sends STACK_EXITED once if any component goes away; its cleanup stops watching, not the stack. */
  watchStack: fromCallback<EventObject, StackAttempt>(() => notProvided('monitoringStack', 'watchStack')),
  /** Stops the given attempt's containers; must succeed when nothing runs. */
  stopStack: fromPromise<void, StopStackInput>(async () => notProvided('monitoringStack', 'stopStack')),
};

const stopInput = ({ context }: { context: MonitoringStackContext }): StopStackInput => ({
  name: context.name,
  generation: context.generation,
  attempt: context.attempt,
});

/** State names match the Service machine's, so both share LIFECYCLE_PHASE; see service.ts for the choices. */
export const monitoringStackMachine = setup({
  types: {
    input: {} as MonitoringStackInput,
    context: {} as MonitoringStackContext,
    events: {} as MonitoringStackEvent,
  },
  actors,
  guards: {
    canRetry: ({ context }) => canRetry(context),
  },
  delays: {
    retryBackoff: ({ context }) => retryDelay(context),
  },
}).createMachine({
  id: 'monitoringStack',
  version: MACHINE_VERSION,
  context: ({ input }) => ({ name: input.name, generation: input.generation, retries: { ...input.retries }, attempt: 0 }),
  initial: 'nextAttempt',
  states: {
    nextAttempt: {
      entry: assign({ attempt: ({ context }) => context.attempt + 1 }),
      always: 'starting',
    },
    starting: {
      invoke: {
        src: 'startStack',
        input: ({ context }) => ({ name: context.name, generation: context.generation, attempt: context.attempt }),
        onDone: { target: 'checking', actions: assign({ endpoints: ({ event }) => ({ ...event.output.endpoints }) }) },
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
        input: ({ context }) => ({ endpoints: context.endpoints ?? {}, attempt: context.attempt }),
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
        src: 'watchStack',
        input: ({ context }) => ({ endpoints: context.endpoints ?? {}, attempt: context.attempt }),
        onError: { target: 'retryOrFail', actions: assign({ lastError: ({ event }) => failureOf(event.error, 'StackLost') }) },
      },
      on: {
        STACK_EXITED: [
          { guard: ({ event }) => event.retryable, target: 'retryOrFail', actions: assign({ lastError: ({ event }) => exitFailure(event) }) },
          { target: 'failed', actions: assign({ lastError: ({ event }) => exitFailure(event) }) },
        ],
        DELETE: 'terminating',
      },
    },
    retryOrFail: {
      always: [{ guard: 'canRetry', target: 'retrying' }, { target: 'failed' }],
    },
    retrying: {
      invoke: { src: 'stopStack', input: stopInput, onError: {} },
      after: { retryBackoff: 'nextAttempt' },
      on: {
        RESUME: { target: 'retrying', reenter: true },
        DELETE: 'terminating',
      },
    },
    failed: {
      invoke: { src: 'stopStack', input: stopInput, onError: {} },
      on: { DELETE: 'terminating' },
    },
    terminating: {
      invoke: { src: 'stopStack', input: stopInput, onDone: 'stopped', onError: 'stopped' },
    },
    stopped: { type: 'final' },
  },
});

export type MonitoringStackSnapshot = SnapshotFrom<typeof monitoringStackMachine>;
export type MonitoringStackStateName = Extract<MonitoringStackSnapshot['value'], string>;
export type MonitoringStackPhase = LifecyclePhase;

export const monitoringStackStateName = (snapshot: MonitoringStackSnapshot): MonitoringStackStateName =>
  stateNameOf(snapshot.value) as MonitoringStackStateName;

export const monitoringStackPhase = (snapshot: MonitoringStackSnapshot): MonitoringStackPhase =>
  LIFECYCLE_PHASE[monitoringStackStateName(snapshot)];
