// Judges a run against the benchmark's SLO: latency percentiles in ms, error
// rate as a fraction, a floor on throughput, and the per-request limits (TTFT,
// TPOT, ITL, E2E) at their percentile with failures counted as infinitely
// slow, as MLPerf judges them, plus a floor on goodput. Pure, so reports and
// status agree.
import { requestLimits, REQUEST_LIMITS, type Slo } from '../../api/slo.js';
import type { LatencyMs, PercentilesWithFailures, SloCheck, SloResult } from './model.js';

export interface SloInputs {
  latencyMs: LatencyMs;
  /** Failed / total, 0..1. */
  errorRate: number;
  /** Successful requests per second. */
  throughput: number;
  /** Percentiles with failures as infinitely slow: latency and each timing metric, ms. */
  withFailures?: { latencyMs: PercentilesWithFailures; metrics: Record<string, PercentilesWithFailures> };
  /** Good requests per second, when the SLO has per-request limits. */
  goodput?: number;
}

/** One of SLO_PERCENTILES (the schema allows no other) read from a percentile block. */
function atPercentile(p: PercentilesWithFailures, percentile: number): number | null {
  const key = ({ 50: 'p50', 90: 'p90', 95: 'p95', 99: 'p99', 99.9: 'p999' } as const)[percentile as 50];
  return p[key];
}

/** A run with no requests fails every latency and error check: an empty run meets no SLO. */
export function evaluateSlo(slo: Slo, actual: SloInputs, requests: number): SloResult {
  const checks: SloCheck[] = [];
  const atMost = (name: 'p50' | 'p95' | 'p99' | 'errorRate', target: number, value: number, unit: 'ms' | 'ratio') =>
    checks.push({ name, target, actual: value, unit, passed: requests > 0 && value <= target });
  if (slo.p50 !== undefined) atMost('p50', slo.p50, actual.latencyMs.p50, 'ms');
  if (slo.p95 !== undefined) atMost('p95', slo.p95, actual.latencyMs.p95, 'ms');
  if (slo.p99 !== undefined) atMost('p99', slo.p99, actual.latencyMs.p99, 'ms');
  if (slo.errorRate !== undefined) atMost('errorRate', slo.errorRate, actual.errorRate, 'ratio');
  if (slo.minThroughput !== undefined)
    checks.push({ name: 'minThroughput', target: slo.minThroughput, actual: actual.throughput, unit: 'req/s', passed: actual.throughput >= slo.minThroughput });
  const limits = requestLimits(slo);
  for (const name of REQUEST_LIMITS) {
    const target = limits[name];
    if (target === undefined) continue;
    const block = name === 'e2e' ? actual.withFailures?.latencyMs : actual.withFailures?.metrics[name];
    // A metric no request reported (TPOT when every answer was one token) has nothing to judge: it cannot pass.
    const value = block ? atPercentile(block, slo.percentile) : null;
    checks.push({ name, percentile: slo.percentile, target, actual: value ?? null, unit: 'ms', passed: requests > 0 && value != null && value <= target });
  }
  if (slo.minGoodput !== undefined) {
    const goodput = actual.goodput ?? 0;
    checks.push({ name: 'minGoodput', target: slo.minGoodput, actual: goodput, unit: 'req/s', passed: goodput >= slo.minGoodput });
  }
  return { passed: checks.every((c) => c.passed), checks };
}

/** How a check reads in a table: "p99 ttft" for a per-request limit, and "inf" where failures fill the percentile. */
export function checkLabel(c: SloCheck): { name: string; actual: string | number } {
  return { name: c.percentile === undefined ? c.name : `p${c.percentile} ${c.name} (failures as inf)`, actual: c.actual ?? 'inf' };
}
