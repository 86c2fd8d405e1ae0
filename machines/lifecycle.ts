// Pieces every machine shares: the retry decision, how an actor's error becomes
// a user-facing failure, and the placeholder for effects the reconciler must provide.
import type { Phase } from '../api/schemas.js';
import { backoffMs, type RetryPolicy } from './backoff.js';

/** Why the last attempt failed: `reason` is CamelCase, ready for a status condition. */
export interface Failure {
  reason: string;
  message: string;
}

/**
 * What a provided actor may throw to steer the machine: a `reason` for the
 * condition, and `retryable: false` when another attempt cannot help (the
 * TerminalError of controller-runtime). Any other error is retried with the
 * machine's default reason.
 */
export class ActorFailure extends Error {
  constructor(
    message: string,
    readonly reason: string,
    readonly retryable: boolean = true,
  ) {
    super(message);
    this.name = 'ActorFailure';
  }
}

/** The slice of context the retry policy reads. */
export interface AttemptContext {
  /** 1-based number of the current (or last) attempt; 0 before the first. */
  attempt: number;
  retries: RetryPolicy;
  /** Attempts started again after a planned end (a job's time limit): they use up no retry. */
  relaunches?: number;
}

/** `retries.max` counts retries after the first attempt, so max+1 attempts in all; relaunches do not count. */
export const canRetry = ({ attempt, retries, relaunches }: AttemptContext): boolean => attempt - (relaunches ?? 0) <= retries.max;

export const retryDelay = ({ attempt, retries }: AttemptContext): number => backoffMs(attempt, retries);

export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === 'string') return error;
  try {
    return JSON.stringify(error) ?? String(error);
  } catch {
    return String(error);
  }
}

/** The failure to record for an actor's error, keeping an ActorFailure's own reason. */
export function failureOf(error: unknown, defaultReason: string): Failure {
  const reason = readField(error, 'reason');
  return { reason: typeof reason === 'string' && reason !== '' ? reason : defaultReason, message: errorMessage(error) };
}

/** True when the error says retrying cannot help (`retryable: false`). */
export const isTerminal = (error: unknown): boolean => readField(error, 'retryable') === false;

function readField(error: unknown, field: string): unknown {
  return typeof error === 'object' && error !== null ? (error as Record<string, unknown>)[field] : undefined;
}

/**
 * Default body of every effect actor: the machine names the effect, the
 * reconciler supplies it with machine.provide({ actors }).
 */
export function notProvided(machine: string, actor: string): never {
  throw new Error(
    `${machine} machine: actor '${actor}' was not provided; pass it with ${machine}Machine.provide({ actors: { ${actor} } }) before createActor`,
  );
}

/** Flat machines only: the name of the state a snapshot rests in. */
export function stateNameOf(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** How a watcher reports that a long-running service or stack went away. */
export interface ExitedEvent {
  type: 'EXITED';
  reason: string;
  message: string;
  /** False when restarting cannot help (bad image, bad args): the machine fails at once. */
  retryable: boolean;
  /**
   * A planned end, not a failure (the job reached its time limit while ready):
   * started again at once, using up no retry.
   */
  relaunch?: boolean;
}

export const exitFailure = (event: ExitedEvent): Failure => ({ reason: event.reason, message: event.message });

/** What every machine's `stop` effect is told: which attempt to stop. */
export interface StopInput {
  attempt: number;
}

/** The context every machine shares: which attempt, how to retry, why the last one failed. */
export interface RetryingContext extends AttemptContext {
  lastError?: Failure;
}

/**
 * Guards, actions and delays every machine registers under these names, so
 * the shared states below mean the same in each: the retry decision, a
 * terminal failure (retryable: false) and the recorded reason.
 */
export const retryGuards = {
  canRetry: ({ context }: { context: RetryingContext }) => canRetry(context),
  /** For onError transitions: the actor said retrying cannot help. */
  isTerminalError: ({ event }: { event: unknown }) => isTerminal((event as { error?: unknown }).error),
};

export const retryDelays = {
  retryBackoff: ({ context }: { context: RetryingContext }) => retryDelay(context),
};

/** `onError` of an effect: a terminal error fails at once, any other goes through the retry decision; both record why. */
export function failOr(reason: string) {
  const record = { type: 'recordError', params: { reason } } as const;
  return [
    { guard: 'isTerminalError', target: 'failed', actions: record },
    { target: 'retryOrFail', actions: record },
  ] as const;
}

const stopInput = ({ context }: { context: RetryingContext }): StopInput => ({ attempt: context.attempt });

/**
 * The end of every lifecycle, the same for each kind: decide, stop the failed
 * attempt (so it never overlaps the next: a service holding its GPUs, a runner
 * still sending), wait out the backoff, try again from `nextAttempt`; or fail,
 * stopping what the attempt left. failed is not final, so DELETE has one path
 * from every state: terminating -> stopped, the only final state.
 */
export const retryStates = {
  // Transient: lastError is already recorded by the transition that led here.
  retryOrFail: {
    always: [{ guard: 'canRetry', target: 'retrying' }, { target: 'failed' }],
  },
  retrying: {
    invoke: { src: 'stop', input: stopInput, onDone: 'backoff', onError: 'backoff' },
    on: { DELETE: 'terminating' },
  },
  backoff: {
    after: { retryBackoff: 'nextAttempt' },
    on: {
      // Timers are not persisted: a restored actor is sent RESUME to re-arm the backoff.
      RESUME: { target: 'backoff', reenter: true },
      DELETE: 'terminating',
    },
  },
  failed: {
    invoke: { src: 'stop', input: stopInput, onError: {} },
    on: { DELETE: 'terminating' },
  },
  terminating: {
    // The launch may be gone already; deletion must not hang on a failed stop.
    invoke: { src: 'stop', input: stopInput, onDone: 'stopped', onError: 'stopped' },
  },
  stopped: { type: 'final' },
} as const;

/** The phases of the start -> check -> ready -> retry lifecycle that Service and MonitoringStack share. */
export type LifecyclePhase = Extract<Phase, 'Starting' | 'Ready' | 'Retrying' | 'Failed' | 'Terminating'>;
