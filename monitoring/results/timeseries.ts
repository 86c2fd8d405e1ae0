// Merges the ranks' per-second rows into one series on the run's wall clock,
// since ranks start at slightly different instants.
import type { TimeSeriesRow } from '../../api/runner-contract.js';
import type { TimeSeriesPoint } from './model.js';

export interface RankSeries {
  /** When this rank started, epoch ms (its row `second` counts from here). */
  startedAtMs: number;
  rows: TimeSeriesRow[];
}

/** See TimeSeriesPoint in model.ts for what is exact (counts, mean) and what is bounded (p99, max). */
export function mergeTimeSeries(ranks: RankSeries[]): TimeSeriesPoint[] {
  if (ranks.length === 0) return [];
  const runStart = Math.min(...ranks.map((r) => r.startedAtMs));
  const bySecond = new Map<number, { point: TimeSeriesPoint; p50Weighted: number; meanWeighted: number }>();
  for (const rank of ranks) {
    const offset = Math.round((rank.startedAtMs - runStart) / 1000);
    for (const row of rank.rows) {
      const second = row.second + offset;
      let acc = bySecond.get(second);
      if (!acc) {
        acc = {
          point: { second, warmup: false, requests: 0, errors: 0, meanMs: 0, p50Ms: 0, p99Ms: 0, maxMs: 0, ranks: 0, counts: {} },
          p50Weighted: 0,
          meanWeighted: 0,
        };
        bySecond.set(second, acc);
      }
      const p = acc.point;
      p.warmup ||= row.warmup;
      p.requests += row.requests;
      p.errors += row.errors;
      for (const [name, n] of Object.entries(row.counts)) p.counts[name] = (p.counts[name] ?? 0) + n;
      p.p99Ms = Math.max(p.p99Ms, row.p99Ms);
      p.maxMs = Math.max(p.maxMs, row.maxMs);
      p.ranks += 1;
      acc.meanWeighted += row.meanMs * row.requests;
      acc.p50Weighted += row.p50Ms * row.requests;
    }
  }
  return [...bySecond.values()]
    .map(({ point, meanWeighted, p50Weighted }) => ({
      ...point,
      meanMs: point.requests > 0 ? meanWeighted / point.requests : 0,
      p50Ms: point.requests > 0 ? p50Weighted / point.requests : 0,
    }))
    .sort((a, b) => a.second - b.second);
}
