// Status and events for the start -> ready -> retry lifecycle that Service and
// MonitoringStack share: same states, same conditions, same event reasons.
import type { Failure, LifecyclePhase } from '../../machines/lifecycle.js';
import type { Status } from '../api/schemas.js';
import { mergeConditions, validCondition } from './conditions.js';

interface LifecycleContext {
  attempt: number;
  lastError?: Failure;
}

export function lifecycleStatus(phase: LifecyclePhase, ctx: LifecycleContext, generation: number, prev: Status | undefined, readyMessage: string): Status {
  const ready = phase === 'Ready';
  const failing = phase === 'Failed' || phase === 'Retrying';
  return {
    phase,
    observedGeneration: generation,
    conditions: mergeConditions(
      prev?.conditions,
      [
        validCondition(true),
        {
          type: 'Ready',
          status: ready ? 'True' : 'False',
          reason: ready ? 'Ready' : failing ? ctx.lastError?.reason ?? phase : phase,
          message: ready ? readyMessage : failing ? ctx.lastError?.message ?? '' : '',
        },
      ],
      new Date(),
    ),
    attempts: ctx.attempt,
    message: failing && ctx.lastError ? `${ctx.lastError.reason}: ${ctx.lastError.message}` : undefined,
  };
}

export function lifecycleEvent(what: string, state: string, ctx: LifecycleContext, readyMessage: string) {
  const err = ctx.lastError ? `${ctx.lastError.reason}: ${ctx.lastError.message}` : '';
  switch (state) {
    case 'starting':
      return { type: 'Normal' as const, reason: 'Starting', message: `starting ${what}, attempt ${ctx.attempt}` };
    case 'checking':
      return { type: 'Normal' as const, reason: 'CheckingReadiness', message: `waiting for ${what} to answer` };
    case 'ready':
      return { type: 'Normal' as const, reason: 'Ready', message: readyMessage };
    // A planned new start (its job's time limit, or a renewal asked for): no retry is used up.
    case 'relaunching':
      return ctx.lastError?.reason === 'Renewal'
        ? { type: 'Normal' as const, reason: 'Renewing', message: `${ctx.lastError.message}; starting ${what} again as attempt ${ctx.attempt + 1}, a new job` }
        : { type: 'Normal' as const, reason: 'Relaunching', message: `${err}; starting ${what} again as attempt ${ctx.attempt + 1}` };
    case 'retrying':
      return { type: 'Warning' as const, reason: 'Retrying', message: `attempt ${ctx.attempt} failed (${err}); retrying` };
    case 'failed':
      return { type: 'Warning' as const, reason: ctx.lastError?.reason ?? 'Failed', message: ctx.lastError?.message ?? 'failed' };
    case 'terminating':
      return { type: 'Normal' as const, reason: 'Terminating', message: `stopping ${what}` };
    default:
      return undefined;
  }
}
