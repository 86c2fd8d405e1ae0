// Stop rules as pure functions of the run's state, so the engine asks one
// question before each send and tests need no clock at all.
import type { RankSummary } from '../../api/runner-contract.js';

export type StopReason = RankSummary['stopReason'];

export interface StopLimits {
  /**
   * Length of the MEASURED window in ms. Warmup comes first and is not part
   * of it, so the run lasts warmupMs + durationMs (plus draining in-flight work).
   */
  durationMs?: number;
  warmupMs: number;
  /**
   * This rank's share of load.maxRequests. Only requests SENT after warmup
   * count toward it (warmup requests and dropped arrivals do not), so the
   * measured window holds exactly this many requests.
   */
  maxRequests?: number;
}

export interface RunState {
  /** ms since the run started; for open loop, the intended send time of the next request. */
  elapsedMs: number;
  /** Requests sent after warmup ended. */
  measuredSent: number;
  /** SIGTERM/SIGINT or an abort from the caller. */
  aborted: boolean;
}

/** Why the run must stop before sending another request, or undefined to go on. */
export function stopReason(limits: StopLimits, state: RunState): StopReason | undefined {
  if (state.aborted) return 'signal';
  if (limits.maxRequests !== undefined && state.measuredSent >= limits.maxRequests) return 'maxRequests';
  if (limits.durationMs !== undefined && state.elapsedMs >= limits.warmupMs + limits.durationMs) return 'duration';
  return undefined;
}

/**
 * Splits a whole-run total across ranks: each gets floor(total/ranks) and the
 * first (total % ranks) ranks get one more, so the shares add up exactly.
 */
export function rankShare(total: number, ranks: number, rank: number): number {
  const base = Math.floor(total / ranks);
  return base + (rank < total % ranks ? 1 : 0);
}
