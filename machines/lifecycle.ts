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
}

/** `retries.max` counts retries after the first attempt, so max+1 attempts in all. */
export const canRetry = ({ attempt, retries }: AttemptContext): boolean => attempt <= retries.max;

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
export interface ExitedEvent<T extends string> {
  type: T;
  reason: string;
  message: string;
  /** False when restarting cannot help (bad image, bad args): the machine fails at once. */
  retryable: boolean;
}

export const exitFailure = (event: ExitedEvent<string>): Failure => ({ reason: event.reason, message: event.message });

/** The phases of the start -> check -> ready -> retry lifecycle that Service and MonitoringStack share. */
export type LifecyclePhase = Extract<Phase, 'Starting' | 'Ready' | 'Retrying' | 'Failed' | 'Terminating'>;

/** State name -> phase for both lifecycle machines; they share these state names on purpose. */
export const LIFECYCLE_PHASE = {
  nextAttempt: 'Starting',
  starting: 'Starting',
  checking: 'Starting',
  ready: 'Ready',
  retryOrFail: 'Retrying',
  retrying: 'Retrying',
  failed: 'Failed',
  terminating: 'Terminating',
  // Deleted resources leave the API; Terminating is the last phase a user sees.
  stopped: 'Terminating',
} as const satisfies Record<string, LifecyclePhase>;
