// Judges a run against the benchmark's SLO: latency percentiles in ms, error
// rate as a fraction, and a floor on throughput. Pure, so reports and status agree.
import type { Slo } from '../../api/schemas.js';
import type { LatencyMs, SloCheck, SloResult } from './model.js';

export interface SloInputs {
  latencyMs: LatencyMs;
  /** Failed / total, 0..1. */
  errorRate: number;
  /** Successful requests per second. */
  throughput: number;
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
  return { passed: checks.every((c) => c.passed), checks };
}
