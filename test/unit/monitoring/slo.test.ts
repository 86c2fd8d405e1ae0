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
