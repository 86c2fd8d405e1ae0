import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Slo } from '../../../api/schemas.js';
import { collectRun, summarize } from '../../../monitoring/results/merge.js';
import { evaluateSlo } from '../../../monitoring/results/slo.js';
import { writeRank } from './rank-fixtures.js';

const latencyMs = { p50: 10, p90: 40, p95: 50, p99: 120, p999: 300, min: 1, mean: 15, max: 400 };

describe('evaluateSlo', () => {
  it('passes when every target is met, comparing latency in ms', () => {
    const slo = Slo.parse({ p50: '20ms', p95: '50ms', p99: '1s', errorRate: 0.01, minThroughput: 100 });
    const r = evaluateSlo(slo, { latencyMs, errorRate: 0.01, throughput: 100 }, 1000);
    expect(r.passed).toBe(true);
    expect(r.checks.map((c) => [c.name, c.target, c.actual, c.passed])).toEqual([
      ['p50', 20, 10, true],
      ['p95', 50, 50, true],
      ['p99', 1000, 120, true],
      ['errorRate', 0.01, 0.01, true],
      ['minThroughput', 100, 100, true],
    ]);
  });

  it('fails the whole SLO when one check fails, and says which', () => {
    const slo = Slo.parse({ p99: '100ms', errorRate: 0.05 });
    const r = evaluateSlo(slo, { latencyMs, errorRate: 0.01, throughput: 5 }, 1000);
    expect(r.passed).toBe(false);
    expect(r.checks.filter((c) => !c.passed).map((c) => c.name)).toEqual(['p99']);
  });

  it('fails on too little throughput and too many errors', () => {
    const r = evaluateSlo(Slo.parse({ errorRate: 0.001, minThroughput: 50 }), { latencyMs, errorRate: 0.2, throughput: 49.9 }, 1000);
    expect(r.checks.map((c) => c.passed)).toEqual([false, false]);
  });

  it('does not let an empty run pass latency or error checks', () => {
    const zero = { p50: 0, p90: 0, p95: 0, p99: 0, p999: 0, min: 0, mean: 0, max: 0 };
    const r = evaluateSlo(Slo.parse({ p99: '1s', errorRate: 0.1 }), { latencyMs: zero, errorRate: 0, throughput: 0 }, 0);
    expect(r.passed).toBe(false);
  });

  it('passes an SLO with no targets', () => {
    expect(evaluateSlo(Slo.parse({}), { latencyMs, errorRate: 1, throughput: 0 }, 10)).toEqual({ passed: true, checks: [] });
  });
});

describe('SLO in collectRun', () => {
  it('judges the merged run and reports sloPassed in the summary', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'aifb-slo-'));
    try {
      // p99 of 1..2000 us is 1.98 ms; one error in 2000.
      const values = Array.from({ length: 2000 }, (_, i) => i + 1);
      await writeRank(dir, { rank: 0, ops: { read: values }, errors: { read: 1 }, measuredMs: 10_000 });
      const meta = { runId: 'run-1', benchmark: 'b', generation: 1, attempt: 1 };
      const pass = await collectRun(dir, { ...meta, slo: Slo.parse({ p99: '2ms', errorRate: 0.001, minThroughput: 199 }) });
      expect(pass.slo?.passed).toBe(true);
      expect(summarize(pass).sloPassed).toBe(true);
      const fail = await collectRun(dir, { ...meta, slo: Slo.parse({ p99: '1ms' }) });
      expect(fail.slo).toEqual({ passed: false, checks: [{ name: 'p99', target: 1, actual: 1.98, unit: 'ms', passed: false }] });
      expect(summarize(fail).sloPassed).toBe(false);
      const none = await collectRun(dir, meta);
      expect(none.slo).toBeUndefined();
      expect('sloPassed' in summarize(none)).toBe(false);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('per-request limits (TTFT, TPOT, ITL, E2E)', () => {
  const pct = (p99: number | null) => ({ p50: 1, p90: 1, p95: 1, p99, p999: p99 });

  it('judges each at the SLO percentile with failures as infinitely slow; a preset gives TTFT and TPOT, a hand-written limit wins', () => {
    const slo = Slo.parse({ preset: 'llama2-70b', tpot: '150ms', e2e: '30s', minGoodput: 2 });
    const withFailures = { latencyMs: pct(null), metrics: { ttft: pct(1900), tpot: pct(160) } };
    const r = evaluateSlo(slo, { latencyMs, errorRate: 0.02, throughput: 5, withFailures, goodput: 2.5 }, 1000);
    expect(r.checks.map((c) => [c.name, c.percentile, c.target, c.actual, c.passed])).toEqual([
      ['ttft', 99, 2000, 1900, true],
      ['tpot', 99, 150, 160, false],
      // Failures fill the p99: infinitely slow, whatever the successes did.
      ['e2e', 99, 30_000, null, false],
      ['minGoodput', undefined, 2, 2.5, true],
    ]);
    expect(r.passed).toBe(false);
  });

  it('fails a limit on a metric nothing reported, rather than passing it', () => {
    const r = evaluateSlo(Slo.parse({ tpot: '50ms' }), { latencyMs, errorRate: 0, throughput: 5, withFailures: { latencyMs: pct(5), metrics: {} } }, 10);
    expect(r.checks[0]).toMatchObject({ name: 'tpot', actual: null, passed: false });
  });

  it('rejects a percentile the reports do not carry, and early stopping or goodput without a limit', () => {
    expect(Slo.safeParse({ ttft: '1s', percentile: 97 }).error?.issues[0]).toMatchObject({ path: ['percentile'], message: 'must be one of 50, 90, 95, 99, 99.9' });
    expect(Slo.safeParse({ p99: '1s', earlyStop: {} }).error?.issues[0]?.path).toEqual(['earlyStop']);
    expect(Slo.safeParse({ minGoodput: 1 }).error?.issues[0]?.path).toEqual(['minGoodput']);
  });
});

describe('collectRun: failures as infinitely slow, goodput, how the run ended', () => {
  it('merges good requests across ranks and computes MLPerf-style percentiles beside the failed share', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'aifb-slo-'));
    try {
      // Two ranks of 100 requests each, latency 1..100 ms; rank 1 has 2 failures, so 2 of 200 are infinitely slow.
      const ms = Array.from({ length: 100 }, (_, i) => (i + 1) * 1000);
      const ttft = Array.from({ length: 100 }, (_, i) => i + 1);
      await writeRank(dir, { rank: 0, ops: { generate: ms }, metrics: { generate: { ttft } }, good: { generate: 90 }, measuredMs: 10_000 });
      await writeRank(dir, { rank: 1, ops: { generate: ms }, metrics: { generate: { ttft } }, errors: { generate: 2 }, good: { generate: 80 }, measuredMs: 10_000, stopReason: 'settled' });
      const r = await collectRun(dir, { runId: 'run-1', benchmark: 'b', generation: 1, attempt: 1, slo: Slo.parse({ ttft: '99ms', percentile: 99 }) });
      expect(r.goodput).toEqual({ good: 170, perSecond: 17 });
      expect(r.operations.generate.good).toBe(170);
      expect(r.withFailures.failedShare).toBe(2 / 200);
      // 200 successes' values + 2 infinite: rank ceil(0.99 x 202) = 200 is the largest success, 100 ms
      // (to the histogram's 3 significant digits); over the successes alone, the p99 is 99 ms.
      expect(r.withFailures.latencyMs.p99).toBeCloseTo(100, 0);
      expect(r.withFailures.metrics.ttft.p99).toBeCloseTo(100, 0);
      expect(r.withFailures.metrics.ttft.p999).toBeNull();
      expect(r.metrics.ttft.p99).toBeCloseTo(99, 0);
      expect(r.slo?.checks[0]).toMatchObject({ name: 'ttft', passed: false });
      expect(r.slo?.checks[0]?.actual).toBeCloseTo(100, 0);
      expect(r.endedBy).toBe('duration, settled');
      const s = summarize(r);
      expect(s.goodput).toBe(17);
      expect(s.metrics?.ttft.p99WithFailures).toBeCloseTo(100, 0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
