// A run's results whether it was one load or a sweep. A sweep's points are each
// merged like a run; the result describes one point (the highest load that met
// the SLO; without an SLO, the knee or the highest throughput) and carries a
// row per point: the throughput/latency curve.
import { join } from 'node:path';
import type { SweepPoint } from '../../api/runner-contract.js';
import { ResultsError } from './errors.js';
import { collectRun, type RunMeta } from './merge.js';
import type { RunResult, SweepRow } from './model.js';
import { readSweep } from './rank-files.js';

export async function collectResults(runDir: string, meta: RunMeta): Promise<RunResult> {
  const sweep = await readSweep(runDir);
  if (!sweep) return collectRun(runDir, meta);
  const points: { point: SweepPoint; result: RunResult }[] = [];
  for (const point of sweep.points) points.push({ point, result: await collectRun(join(runDir, point.dir), meta) });
  if (points.length === 0) throw new ResultsError(`the sweep in ${runDir} ran no point (${sweep.ended}); check the runner's log`, { file: runDir });
  const primary = primaryOf(points, meta.slo !== undefined);
  return {
    ...points[primary].result,
    sweep: { ended: sweep.ended, primary: points[primary].point.index, points: points.map(({ point, result }) => rowOf(point, result)) },
  };
}

/** Index into `points` of the point the result describes. */
function primaryOf(points: { point: SweepPoint; result: RunResult }[], judged: boolean): number {
  const lastWhere = (ok: (p: { point: SweepPoint; result: RunResult }) => boolean) => {
    for (let i = points.length - 1; i >= 0; i--) if (ok(points[i])) return i;
    return 0;
  };
  if (judged) return lastWhere((p) => p.result.slo?.passed === true);
  if (points.some((p) => p.point.keptUp !== undefined)) return lastWhere((p) => p.point.keptUp === true);
  let best = 0;
  for (let i = 1; i < points.length; i++) if (points[i].result.summary.throughput > points[best].result.summary.throughput) best = i;
  return best;
}

function rowOf(point: SweepPoint, r: RunResult): SweepRow {
  const timings: SweepRow['timings'] = {};
  const perSecond: SweepRow['perSecond'] = {};
  const values: NonNullable<SweepRow['values']> = {};
  for (const [name, m] of Object.entries(r.metrics)) {
    if (m.kind === 'timing') timings[name] = { p50: m.p50, p99: m.p99 };
    else if (m.kind === 'count') perSecond[name] = m.perSecond;
    else values[name] = { mean: m.mean, count: m.count, ...(m.interval ? { interval: m.interval } : {}) };
  }
  return {
    index: point.index,
    ...(point.rate !== undefined ? { rate: point.rate } : {}),
    ...(point.workers !== undefined ? { workers: point.workers } : {}),
    ...(point.parameter ? { parameter: point.parameter } : {}),
    requests: r.summary.total_requests,
    failed: r.summary.failed_requests,
    dropped: r.summary.dropped_requests,
    durationS: r.durationS,
    throughput: r.summary.throughput,
    ...(r.goodput ? { goodput: r.goodput.perSecond } : {}),
    latencyP50Ms: r.latencyMs.p50,
    latencyP99Ms: r.latencyMs.p99,
    latencyP99MsWithFailures: r.withFailures.latencyMs.p99,
    timings,
    perSecond,
    ...(Object.keys(values).length > 0 ? { values } : {}),
    // The merged judgement, which the reports show; the runner judged the same requests.
    ...(r.slo ? { sloPassed: r.slo.passed } : point.sloPassed !== undefined ? { sloPassed: point.sloPassed } : {}),
    ...(point.keptUp !== undefined ? { keptUp: point.keptUp } : {}),
    endedBy: r.endedBy,
  };
}
