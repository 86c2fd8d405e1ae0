// Retry delay policy shared by every machine: exponential backoff with a cap.
// Pure, so a machine's `retryBackoff` delay and the tests agree on the numbers.
import type { ServiceSpec } from '../api/schemas.js';

/** `spec.retries` after defaults: durations already in milliseconds. */
export type RetryPolicy = ServiceSpec['retries'];

/** Delay before the attempt after `attempt` (1-based): backoff * 2^(attempt-1), at most maxBackoff. */
export function backoffMs(attempt: number, policy: Pick<RetryPolicy, 'backoff' | 'maxBackoff'>): number {
  const exponent = Math.max(0, Math.floor(attempt) - 1);
  // 2 ** exponent overflows to Infinity for silly attempts; Math.min still caps it.
  return Math.max(0, Math.min(policy.backoff * 2 ** exponent, policy.maxBackoff));
}
