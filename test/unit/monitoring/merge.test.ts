import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as hdr from 'hdr-histogram-js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { collectRun, ResultsError, summarize } from '../../../monitoring/results/merge.js';
import { histogramOf, latencies, row, writeRank } from './rank-fixtures.js';

const meta = { runId: 'run-1', benchmark: 'fs-load', generation: 3, attempt: 2 };
let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'aifb-merge-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function twoRanks() {
  const r0 = { read: latencies(1, 4000, 800), write: latencies(2, 1500, 3000) };
  const r1 = { read: latencies(3, 2500, 1200), write: latencies(4, 3000, 2000) };
  await writeRank(dir, {
    rank: 0,
    ops: r0,
    errors: { write: 7 },
    errorsByReason: { write: { ENOSPC: 7 } },
    bytes: { read: 1000, write: 5000 },
    dropped: 2,
    measuredMs: 10_000,
    sendLagUs: [100, 200],
    maxSendLagMs: 0.2,
  });
  await writeRank(dir, {
    rank: 1,
    ops: r1,
    errors: { read: 3, write: 1 },
    errorsByReason: { read: { 'timeout, "slow"': 3 }, write: { ENOSPC: 1 } },
    bytes: { read: 2000, write: 7000 },
    dropped: 5,
    measuredMs: 12_000,
    startedAt: '2025-01-04T12:00:02.000Z',
    sendLagUs: [300, 90_000],
    maxSendLagMs: 90.2,
  });
  return { r0, r1 };
}

describe('collectRun', () => {
  it('merges two ranks so percentiles equal one histogram of every request', async () => {
    const { r0, r1 } = await twoRanks();
    const result = await collectRun(dir, meta);
    const everything = histogramOf([...r0.read, ...r0.write, ...r1.read, ...r1.write]);
    for (const [p, key] of [
      [50, 'p50'],
      [90, 'p90'],
      [95, 'p95'],
      [99, 'p99'],
      [99.9, 'p999'],
    ] as const) {
      expect(result.latencyMs[key]).toBe(everything.getValueAtPercentile(p) / 1000);
      expect(result.percentiles[key]).toBe(everything.getValueAtPercentile(p) / 1e6);
    }
    // Encoding keeps buckets, not raw values, so max/min are compared with the single histogram as a runner would ship it.
    const shipped = hdr.decodeFromCompressedBase64(hdr.encodeIntoCompressedBase64(everything));
    expect(result.latencyMs.max).toBe(shipped.maxValue / 1000);
    expect(result.latencyMs.min).toBe(shipped.minNonZeroValue / 1000);
    expect(result.latencyMs.max).toBeGreaterThanOrEqual(everything.maxValue / 1000);
    expect(result.timing.median_duration).toBe(everything.getValueAtPercentile(50) / 1e6);
    expect(result.timing.avg_duration).toBeCloseTo(everything.mean / 1e6, 9);
    expect(result.timing.stddev).toBeCloseTo(everything.stdDeviation / 1e6, 9);

    const reads = histogramOf([...r0.read, ...r1.read]);
    expect(result.operations.read.latencyMs.p99).toBe(reads.getValueAtPercentile(99) / 1000);
    expect(result.operations.read.latencyMs.p50).toBe(reads.getValueAtPercentile(50) / 1000);
    expect(result.buckets.count).toBe(everything.totalCount);
  });

  it('adds up totals, errors by reason, bytes and drops, and takes the longest measured window', async () => {
    await twoRanks();
    const r = await collectRun(dir, meta);
    expect(r.ranks).toBe(2);
    expect(r.summary.total_requests).toBe(4000 + 1500 + 2500 + 3000);
    expect(r.summary.failed_requests).toBe(11);
    expect(r.summary.successful_requests).toBe(11000 - 11);
    expect(r.summary.dropped_requests).toBe(7);
    expect(r.durationS).toBe(12);
    expect(r.summary.total_duration).toBe(12);
    expect(r.summary.throughput).toBeCloseTo((11000 - 11) / 12, 9);
    expect(r.summary.success_rate).toBeCloseTo(((11000 - 11) / 11000) * 100, 9);
    expect(r.operations.write).toMatchObject({ total_requests: 4500, failed: 8, successful: 4492, errors: { ENOSPC: 8 } });
    expect(r.operations.write.metrics.bytes).toMatchObject({ kind: 'count', unit: 'bytes', count: 2, sum: 12000, perSecond: 1000 });
    expect(r.metrics.bytes).toMatchObject({ count: 4, sum: 15000 });
    expect(r.operations.read.errors).toEqual({ 'timeout, "slow"': 3 });
    expect(r.operations.read.throughput).toBeCloseTo((6500 - 3) / 12, 9);
    expect(r.startedAt).toBe('2025-01-04T12:00:00.000Z');
    expect(r.completedAt).toBe('2025-01-04T12:00:15.000Z'); // rank 1: start +2 s, +1 s warmup, +12 s measured
    expect(r.services).toEqual({ 'fs-load': { total_requests: 11000, success_rate: r.summary.success_rate, throughput: r.summary.throughput, timing: r.timing } });
    expect(r.sendLag.maxMs).toBe(90.2);
    expect(r.sendLag.p50Ms).toBeLessThan(1);
    expect(r.warnings).toEqual([
      'rank 0 left no time series; per-second rows lack its requests',
      'rank 1 left no time series; per-second rows lack its requests',
    ]);
  });

  it('names the per-service block after the service when given', async () => {
    await writeRank(dir, { rank: 0, ops: { read: [100, 200] } });
    const r = await collectRun(dir, { ...meta, service: 'file-storage' });
    expect(Object.keys(r.services)).toEqual(['file-storage']);
  });

  it('rebuilds the overall histogram from operations when a rank has no "all"', async () => {
    await writeRank(dir, { rank: 0, ops: { read: [100, 200, 300], write: [1000] }, omitAll: true });
    const r = await collectRun(dir, meta);
    expect(r.buckets.count).toBe(4);
    expect(r.latencyMs.max).toBe(1000 / 1000);
  });

  it('merges per-second rows on the wall clock, summing counts and weighting means', async () => {
    await writeRank(dir, { rank: 0, ops: { read: [100] }, timeseries: [row(0, 10, 1, 5, { warmup: true }), row(1, 10, 2, 8)] });
    await writeRank(dir, { rank: 1, ops: { read: [100] }, startedAt: '2025-01-04T12:00:01.000Z', timeseries: [row(0, 30, 4, 20, { errors: 2, counts: { bytes: 9 } })] });
    const r = await collectRun(dir, meta);
    expect(r.timeseries).toHaveLength(2);
    expect(r.timeseries[0]).toMatchObject({ second: 0, warmup: true, requests: 10, ranks: 1 });
    expect(r.timeseries[1]).toMatchObject({ second: 1, warmup: false, requests: 40, errors: 2, counts: { bytes: 9 }, p99Ms: 20, maxMs: 20, ranks: 2 });
    expect(r.timeseries[1].meanMs).toBeCloseTo((10 * 2 + 30 * 4) / 40, 9);
    expect(r.warnings).toEqual([]);
  });

  it('warns about a rank that left only a done file and merges the rest', async () => {
    await writeRank(dir, { rank: 0, ops: { read: [100, 200] }, timeseries: [row(0, 2, 0.15, 0.2)] });
    await writeFile(join(dir, 'rank-1.done.json'), JSON.stringify({ rank: 1, exitCode: 3, reason: 'connection refused', finishedAt: '2025-01-04T12:00:01Z' }));
    const r = await collectRun(dir, meta);
    expect(r.ranks).toBe(1);
    expect(r.warnings).toEqual(['rank 1 left no summary (exit code 3: connection refused); its requests are not counted']);
  });

  it('warns when a rank left no time series file', async () => {
    await writeRank(dir, { rank: 0, ops: { read: [100] }, timeseries: null });
    const r = await collectRun(dir, meta);
    expect(r.timeseries).toEqual([]);
    expect(r.warnings[0]).toMatch(/rank 0 left no time series/);
  });
});

describe('collectRun errors', () => {
  async function error(p: Promise<unknown>): Promise<ResultsError> {
    const e = await p.then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(ResultsError);
    return e as ResultsError;
  }

  it('fails when the folder has no rank files, saying what to check', async () => {
    const e = await error(collectRun(dir, meta));
    expect(e.message).toContain(dir);
    expect(e.message).toMatch(/no rank-<N>\.summary\.json/);
  });

  it('fails when no rank left a summary, listing the ranks seen', async () => {
    await writeFile(join(dir, 'rank-0.done.json'), '{}');
    const e = await error(collectRun(dir, meta));
    expect(e.message).toMatch(/ranks seen: 0/);
  });

  it('fails on a missing folder', async () => {
    const e = await error(collectRun(join(dir, 'nope'), meta));
    expect(e.file).toBe(join(dir, 'nope'));
  });

  it('names a missing histograms file', async () => {
    await writeRank(dir, { rank: 0, ops: { read: [100] } });
    await rm(join(dir, 'rank-0.histograms.json'));
    const e = await error(collectRun(dir, meta));
    expect(e.file).toBe(join(dir, 'rank-0.histograms.json'));
    expect(e.message).toContain('rank-0.histograms.json');
    expect(e.message).toMatch(/missing/);
  });

  it('names a summary that is not JSON', async () => {
    await writeRank(dir, { rank: 0, ops: { read: [100] } });
    await writeFile(join(dir, 'rank-0.summary.json'), '{"rank": 0, "tot');
    const e = await error(collectRun(dir, meta));
    expect(e.file).toBe(join(dir, 'rank-0.summary.json'));
    expect(e.message).toMatch(/not valid JSON/);
  });

  it('names the field of a summary that breaks the contract', async () => {
    await writeRank(dir, { rank: 0, ops: { read: [100] } });
    await writeFile(join(dir, 'rank-0.summary.json'), JSON.stringify({ rank: 0, runId: 'run-1', totals: { requests: 'many' } }));
    const e = await error(collectRun(dir, meta));
    expect(e.message).toContain('rank-0.summary.json');
    expect(e.message).toMatch(/field \w+/);
  });

  it('names the file and key of a histogram that does not decode', async () => {
    await writeRank(dir, { rank: 0, ops: { read: [100] } });
    await writeFile(join(dir, 'rank-0.histograms.json'), JSON.stringify({ latency: { read: 'not-a-histogram!!' }, sendLag: '', metrics: {} }));
    const e = await error(collectRun(dir, meta));
    expect(e.file).toBe(join(dir, 'rank-0.histograms.json'));
    expect(e.message).toContain('"read"');
  });

  it('names a corrupt time series file', async () => {
    await writeRank(dir, { rank: 0, ops: { read: [100] } });
    await writeFile(join(dir, 'rank-0.timeseries.json'), JSON.stringify([{ second: 'x' }]));
    const e = await error(collectRun(dir, meta));
    expect(e.file).toBe(join(dir, 'rank-0.timeseries.json'));
  });
});

describe('collectRun: declared metrics', () => {
  it('merges each metric across ranks losslessly: percentiles of one histogram of every value, exact sums', async () => {
    const ttft0 = latencies(5, 3000, 400).map((us) => us / 1000);
    const ttft1 = latencies(6, 2000, 900).map((us) => us / 1000);
    await writeRank(dir, { rank: 0, ops: { chat: latencies(7, 3000) }, metrics: { chat: { ttft: ttft0, outputTokens: ttft0.map(() => 64) } }, measuredMs: 10_000 });
    await writeRank(dir, { rank: 1, ops: { chat: latencies(8, 2000) }, metrics: { chat: { ttft: ttft1, outputTokens: ttft1.map(() => 32) } }, measuredMs: 10_000 });
    const r = await collectRun(dir, meta);
    const one = histogramOf([...ttft0, ...ttft1].map((ms) => Math.round(ms * 1000)));
    const ttft = r.operations.chat.metrics.ttft;
    expect(ttft).toMatchObject({ kind: 'timing', unit: 'ms', count: 5000 });
    for (const [p, key] of [[50, 'p50'], [90, 'p90'], [99, 'p99'], [99.9, 'p999']] as const) {
      expect(ttft[key], key).toBe(one.getValueAtPercentile(p) / 1000);
    }
    expect(ttft.mean).toBeCloseTo([...ttft0, ...ttft1].reduce((a, b) => a + b, 0) / 5000, 9);
    expect(ttft.buckets?.count).toBe(5000);
    expect(r.metrics.outputTokens).toMatchObject({ kind: 'count', unit: 'tokens', count: 5000, sum: 3000 * 64 + 2000 * 32, perSecond: (3000 * 64 + 2000 * 32) / 10 });
    const status = summarize(r).metrics!;
    expect(status.ttft).toMatchObject({ unit: 'ms', p50: Math.round(ttft.p50 * 1000) / 1000 });
    expect(status.ttft.sum).toBeUndefined();
    expect(status.outputTokens).toMatchObject({ unit: 'tokens', sum: 256_000, perSecond: 25_600 });
  });

  it('keeps values (recall) to three significant digits, and their mean exact', async () => {
    await writeRank(dir, { rank: 0, ops: { search: [100, 200, 300, 400] }, metrics: { search: { recall: [0.5, 0.9, 0.95, 1] } } });
    const { recall } = (await collectRun(dir, meta)).metrics;
    expect(recall.kind).toBe('value');
    expect(recall.mean).toBeCloseTo(0.8375, 12);
    for (const [got, want] of [[recall.min, 0.5], [recall.p50, 0.9], [recall.max, 1]]) expect(Math.abs(got - want) / want).toBeLessThan(0.001);
  });
});

describe('summarize', () => {
  it('gives the status block in ms with the error rate as a fraction', async () => {
    // Below 2048 us the histogram is exact to the microsecond, so the expected values are exact too.
    await writeRank(dir, { rank: 0, ops: { read: [500, 1000, 1500, 2000] }, errors: { read: 1 }, measuredMs: 2000 });
    const r = await collectRun(dir, meta);
    expect(summarize(r)).toEqual({
      requests: 4,
      errors: 1,
      errorRate: 0.25,
      durationS: 2,
      throughput: 1.5,
      meanMs: 1.25,
      p50Ms: 1,
      p90Ms: 2,
      p95Ms: 2,
      p99Ms: 2,
      p999Ms: 2,
      maxMs: 2,
      // The fourth request failed: counted as infinitely slow, it is the p99.
      p99MsWithFailures: null,
      endedBy: 'duration',
      sendLagP99Ms: 0.15,
    });
  });

  it('open loop: says the generator kept up when the ranks together sent the target rate with little send lag', async () => {
    // Two ranks of 50 req/s each for 10 s: 1000 sent; send lag 50-150 us.
    await writeRank(dir, { rank: 0, ops: { read: latencies(1, 500, 800) }, targetRate: 50, sent: 500 });
    await writeRank(dir, { rank: 1, ops: { read: latencies(2, 500, 800) }, targetRate: 50, sent: 500 });
    const r = await collectRun(dir, meta);
    expect(r.generator).toEqual({ targetRate: 100, achievedRate: 100, sendLagP99Ms: 0.15, dropped: 0, keptUp: true });
    expect(r.warnings.filter((w) => w.includes('generator'))).toEqual([]);
    expect(summarize(r).generator?.keptUp).toBe(true);
  });

  it('open loop: warns, naming both causes, when arrivals were dropped and requests left late', async () => {
    await writeRank(dir, { rank: 0, ops: { read: latencies(1, 900, 800) }, targetRate: 100, sent: 900, dropped: 100, sendLagUs: [100, 5000, 5000] }); // 5 ms, as the histogram holds it: 5.003
    const r = await collectRun(dir, meta);
    expect(r.generator).toMatchObject({ targetRate: 100, achievedRate: 90, dropped: 100, keptUp: false });
    expect(r.generator!.why).toBe(
      'the load generator did not keep up: sent 90 of 100 req/s (90.0%): 100 arrivals found load.concurrency requests in flight and were dropped (the service could not keep up, or raise load.concurrency); ' +
        'send lag p99 5.003 ms > 1 ms: the runner sent requests late, so latencies include its own delay (more ranks with spec.runner, or a lower rate)',
    );
    // The warning travels with the result into every report that carries warnings (JSON, HTML).
    expect(r.warnings).toContain(r.generator!.why);
  });

  it('closed loop: no generator verdict (nothing was scheduled)', async () => {
    await writeRank(dir, { rank: 0, ops: { read: latencies(1, 100, 800) } });
    expect((await collectRun(dir, meta)).generator).toBeUndefined();
  });

  it('handles a run with no requests without NaN', async () => {
    await writeRank(dir, { rank: 0, ops: {} });
    const s = summarize(await collectRun(dir, meta));
    expect(s).toMatchObject({ requests: 0, errorRate: 0, throughput: 0, p99Ms: 0, maxMs: 0 });
    expect(Object.values(s).every((v) => typeof v !== 'number' || Number.isFinite(v))).toBe(true);
  });
});
