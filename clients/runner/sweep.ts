// A sweep: the load once per point (a rate, a number of workers, or a value of a
// workload parameter such as efSearch), each point in its own folder, judged as
// it ends so the sweep can stop at the first point that breaks the SLO or that
// the server no longer keeps up with. The knee search doubles the rate (or
// multiplies it by `factor`) until that happens.
import { join } from 'node:path';
import type { RankSweep, SweepPoint } from '../../api/runner-contract.js';
import type { Load, Sweep } from '../../api/schemas.js';
import { evaluateSlo, type Slo } from '../../api/slo.js';
import type { PointSettings } from '../client.js';
import type { LoadResults } from '../engine/engine.js';
import type { PointOutcome } from './point.js';
import { sloInputsOf } from './rank-results.js';

/** Requests completed at this share of the offered rate, or more, keep up. */
const KEPT_UP_SHARE = 0.9;
/** Arrivals dropped at the concurrency cap, as a share of arrivals, past which the server does not keep up. */
const DROPPED_SHARE = 0.01;

/** One point: a rate, a number of workers, or a workload parameter's value (at the load's own rate or workers). */
export interface PointOf {
  rate?: number;
  workers?: number;
  parameter?: { name: string; value: number };
}

/** The load of one point: the sweep's rate or workers in place of the load's own. */
export function pointLoad(load: Load, point: PointOf): Load {
  const { sweep: _sweep, ...rest } = load;
  return { ...rest, ...(point.rate !== undefined ? { rate: point.rate } : {}), ...(point.workers !== undefined ? { workers: point.workers } : {}) };
}

/** Open loop: did requests complete near the offered rate, with next to nothing dropped? */
export function keptUp(r: LoadResults, rate: number): boolean {
  const seconds = r.measuredMs / 1000;
  const completed = seconds > 0 ? r.totals.requests / seconds : 0;
  const arrivals = r.totals.requests + r.totals.dropped;
  return completed >= KEPT_UP_SHARE * rate && (arrivals === 0 || r.totals.dropped / arrivals < DROPPED_SHARE);
}

/** The points a list sweep runs, in order; a knee sweep makes them as it goes. */
function* pointsOf(sweep: Sweep): Generator<PointOf> {
  if (sweep.rates) for (const rate of sweep.rates) yield { rate };
  else if (sweep.parameter) for (const value of sweep.parameter.values) yield { parameter: { name: sweep.parameter.name, value } };
  else if (sweep.concurrencies) for (const workers of sweep.concurrencies) yield { workers };
  else if (sweep.knee) {
    let rate = sweep.knee.from;
    for (let i = 0; i < sweep.knee.maxPoints; i++, rate *= sweep.knee.factor) yield { rate };
  }
}

export interface SweepOptions {
  load: Load & { sweep: Sweep };
  slo?: Slo;
  signal: AbortSignal;
  /** Runs one point into `dir` (relative to the run folder); `settings` are for the client's beforePoint. */
  run: (load: Load, dir: string, settings: PointSettings) => Promise<PointOutcome>;
  /** Says a point ended, for the log. */
  onPoint?: (point: SweepPoint, outcome: PointOutcome) => void;
}

export async function runSweep(o: SweepOptions): Promise<RankSweep> {
  const { sweep } = o.load;
  const points: SweepPoint[] = [];
  let index = 0;
  for (const p of pointsOf(sweep)) {
    if (o.signal.aborted) return { points, ended: 'stopped by a signal' };
    const dir = join('points', String(index));
    const outcome = await o.run(pointLoad(o.load, p), dir, settingsOf(p));
    const r = outcome.results;
    const sloPassed = o.slo ? evaluateSlo(o.slo, sloInputsOf(r), r.totals.requests).passed : undefined;
    const point: SweepPoint = {
      index,
      dir,
      ...p,
      ...(sloPassed !== undefined ? { sloPassed } : {}),
      // Open loop at a parameter's value runs at the load's own rate: did that still keep up?
      ...(p.rate !== undefined ? { keptUp: keptUp(r, p.rate) } : p.parameter && o.load.mode === 'open' && o.load.rate !== undefined ? { keptUp: keptUp(r, o.load.rate) } : {}),
    };
    points.push(point);
    o.onPoint?.(point, outcome);
    index++;
    if (r.stopReason === 'signal') return { points, ended: 'stopped by a signal' };
    if (sloPassed === false && sweep.stopOnSloBreak) return { points, ended: `the SLO broke at point ${point.index} (${label(point)})` };
    if (sweep.knee && point.keptUp === false) return { points, ended: `the server stopped keeping up at ${label(point)}: the knee is the point before` };
  }
  return { points, ended: sweep.knee ? `reached knee.maxPoints (${sweep.knee.maxPoints}) while the server kept up` : 'every point ran' };
}

export const label = (p: PointOf) => (p.parameter ? `${p.parameter.name} ${p.parameter.value}` : p.rate !== undefined ? `${p.rate} req/s` : `${p.workers} workers`);

/** What the client is told before a point: the swept parameter, if any. */
export const settingsOf = (p: PointOf): PointSettings => ({ parameters: p.parameter ? { [p.parameter.name]: p.parameter.value } : {} });
