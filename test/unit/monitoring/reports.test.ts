import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Slo } from '../../../api/schemas.js';
import { collectRun } from '../../../monitoring/results/merge.js';
import type { RunResult } from '../../../monitoring/results/model.js';
import { csvField, METRICS_HEADER, OPERATIONS_HEADER, renderMetricsCsv, renderOperationsCsv, renderTimeseriesCsv, TIMESERIES_HEADER } from '../../../monitoring/reports/csv.js';
import { renderHtml } from '../../../monitoring/reports/html.js';
import { writeReports, type ReportFormat } from '../../../monitoring/reports/index.js';
import { JsonReport } from '../../../monitoring/reports/json.js';
import { renderPrometheus } from '../../../monitoring/reports/prometheus.js';
import { latencies, row, writeRank } from './rank-fixtures.js';

const NASTY = 'connect failed, server said "no"';
let dir: string;
let result: RunResult;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'aifb-reports-'));
  const runDir = join(dir, 'run');
  await writeRank(runDir, {
    rank: 0,
    ops: { read: latencies(1, 500), write: latencies(2, 200, 5000) },
    errors: { write: 3 },
    errorsByReason: { write: { [NASTY]: 2, ENOSPC: 1 } },
    bytes: { read: 4096, write: 8192 },
    metrics: { read: { ttft: [0.5, 0.7, 1.5] } },
    timeseries: [row(0, 100, 1.2, 3, { warmup: true }), row(1, 300, 1.4, 6, { errors: 3, counts: { bytes: 12288 } }), row(2, 300, 1.3, 4)],
  });
  result = await collectRun(runDir, { runId: 'fs-load-g1-a1', benchmark: 'fs-load', generation: 1, attempt: 1, service: 'file-storage', slo: Slo.parse({ p99: '5ms' }) });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** RFC 4180 parser, written independently of the writer so the test can catch it. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let field = '';
  let fields: string[] = [];
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (field += '"'), i++;
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') fields.push(field), (field = '');
    else if (c === '\n') fields.push(field), rows.push(fields), (fields = []), (field = '');
    else if (c !== '\r') field += c;
  }
  if (field || fields.length) fields.push(field), rows.push(fields);
  return rows;
}

describe('JSON report', () => {
  it("has the guide's fields and parses with the report schema", async () => {
    const paths = await writeReports(result, join(dir, 'json'), ['json']);
    const doc = JSON.parse(await readFile(paths.json, 'utf8'));
    expect(Object.keys(doc)).toEqual(expect.arrayContaining(['benchmark_id', 'timestamp', 'summary', 'timing', 'percentiles', 'services']));
    const report = JsonReport.parse(doc);
    expect(report.benchmark_id).toBe('fs-load-g1-a1');
    expect(report.timestamp).toBe(result.completedAt);
    expect(Object.keys(report.summary)).toEqual(
      expect.arrayContaining(['total_requests', 'successful_requests', 'failed_requests', 'success_rate', 'total_duration']),
    );
    expect(Object.keys(report.timing).sort()).toEqual(['avg_duration', 'max_duration', 'median_duration', 'min_duration', 'stddev']);
    expect(Object.keys(report.percentiles)).toEqual(expect.arrayContaining(['p50', 'p90', 'p95', 'p99']));
    expect(report.services['file-storage']).toMatchObject({ total_requests: 700, throughput: result.summary.throughput });
    expect(report.services['file-storage'].timing).toHaveProperty('avg_duration');
    // Seconds in the guide's blocks, milliseconds in latencyMs.
    expect(report.percentiles.p99 * 1000).toBeCloseTo(report.latencyMs.p99, 9);
    expect(report.metrics.ttft).toMatchObject({ kind: 'timing', unit: 'ms', count: 3 });
    expect(report.operations.read.metrics.bytes).toMatchObject({ sum: 4096 });
    expect(report.slo?.passed).toBe(result.slo?.passed);
    expect(report.timeseries).toHaveLength(3);
    expect(report.operations.write.errors[NASTY]).toBe(2);
  });
});

describe('CSV reports', () => {
  it('quotes only what needs quoting', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField(0.1 + 0.2)).toBe('0.3');
  });

  it('writes one operations row per op plus "all", which parses back', () => {
    const rows = parseCsv(renderOperationsCsv(result));
    expect(rows[0]).toEqual(OPERATIONS_HEADER);
    const byOp = new Map(rows.slice(1).map((r) => [r[2], Object.fromEntries(OPERATIONS_HEADER.map((h, i) => [h, r[i]]))]));
    expect([...byOp.keys()]).toEqual(['read', 'write', 'all']);
    expect(rows.every((r) => r.length === OPERATIONS_HEADER.length)).toBe(true);
    expect(byOp.get('write')).toMatchObject({ total_requests: '200', failed: '3', errors: `${NASTY}: 2; ENOSPC: 1` });
    expect(byOp.get('all')).toMatchObject({ run_id: 'fs-load-g1-a1', total_requests: '700', failed: '3' });
    expect(Number(byOp.get('all')!.p99_ms)).toBeCloseTo(result.latencyMs.p99, 5);
  });

  it('writes one time series row per second, with a column per count metric', () => {
    const rows = parseCsv(renderTimeseriesCsv(result));
    expect(rows[0]).toEqual([...TIMESERIES_HEADER, 'bytes']);
    expect(rows.slice(1).map((r) => [r[1], r[2], r[3], r[4], r.at(-1)])).toEqual([
      ['0', 'true', '100', '0', '0'],
      ['1', 'false', '300', '3', '12288'],
      ['2', 'false', '300', '0', '0'],
    ]);
  });

  it('writes one metrics row per operation and declared metric, plus "all"', () => {
    const rows = parseCsv(renderMetricsCsv(result));
    expect(rows[0]).toEqual(METRICS_HEADER);
    const keyed = new Map(rows.slice(1).map((r) => [`${r[2]}/${r[3]}`, Object.fromEntries(METRICS_HEADER.map((h, i) => [h, r[i]]))]));
    expect([...keyed.keys()].sort()).toEqual(['all/bytes', 'all/ttft', 'read/bytes', 'read/ttft', 'write/bytes']);
    expect(keyed.get('all/bytes')).toMatchObject({ kind: 'count', unit: 'bytes', sum: '12288' });
    expect(keyed.get('read/ttft')).toMatchObject({ kind: 'timing', unit: 'ms', count: '3', max: '1.5' });
  });
});

describe('Prometheus report', () => {
  const text = () => renderPrometheus(result);

  it("uses the guide's metric names, labelled by benchmark, service, run and operation", () => {
    const t = text();
    expect(t).toContain('benchmark_requests_total{benchmark="fs-load",service="file-storage",run="fs-load-g1-a1",operation="all"} 700\n');
    expect(t).toContain('benchmark_requests_total{benchmark="fs-load",service="file-storage",run="fs-load-g1-a1",operation="write"} 200\n');
    expect(t).toContain('benchmark_requests_successful{benchmark="fs-load",service="file-storage",run="fs-load-g1-a1",operation="all"} 697\n');
    expect(t).toContain('benchmark_requests_failed{benchmark="fs-load",service="file-storage",run="fs-load-g1-a1",operation="write"} 3\n');
    expect(t).toContain('# TYPE benchmark_request_duration_seconds histogram');
    expect(t).toContain('benchmark_request_duration_seconds_count{benchmark="fs-load",service="file-storage",run="fs-load-g1-a1",operation="all"} 700\n');
    expect(t).toContain(`benchmark_request_duration_quantile_seconds{benchmark="fs-load",service="file-storage",run="fs-load-g1-a1",operation="all",quantile="0.99"} ${result.latencyMs.p99 / 1000}\n`);
    expect(t).toContain('benchmark_slo_passed{benchmark="fs-load",service="file-storage",run="fs-load-g1-a1"}');
  });

  it('says whether an open-loop generator kept up, and nothing about it for a closed loop', () => {
    expect(text()).not.toContain('benchmark_generator_kept_up');
    const limited = renderPrometheus({ ...result, generator: { targetRate: 100, achievedRate: 80, sendLagP99Ms: 0.3, dropped: 200, keptUp: false, why: 'the load generator did not keep up: ...' } });
    expect(limited).toContain('benchmark_generator_kept_up{benchmark="fs-load",service="file-storage",run="fs-load-g1-a1"} 0\n');
    expect(limited).toContain('benchmark_generator_target_requests_per_second{benchmark="fs-load",service="file-storage",run="fs-load-g1-a1"} 100\n');
    expect(limited).toContain('benchmark_generator_sent_requests_per_second{benchmark="fs-load",service="file-storage",run="fs-load-g1-a1"} 80\n');
  });

  it('carries the declared metrics: timings as histograms in seconds, counts as counters', () => {
    const t = text();
    expect(t).toContain('# TYPE benchmark_ttft_seconds histogram');
    expect(t).toContain('benchmark_ttft_seconds_count{benchmark="fs-load",service="file-storage",run="fs-load-g1-a1",operation="read"} 3\n');
    expect(t).toContain('benchmark_ttft_quantile_seconds{benchmark="fs-load",service="file-storage",run="fs-load-g1-a1",operation="all",quantile="0.5"} 0.0007\n');
    expect(t).toContain('# TYPE benchmark_bytes_total counter');
    expect(t).toContain('benchmark_bytes_total{benchmark="fs-load",service="file-storage",run="fs-load-g1-a1",operation="all"} 12288\n');
  });

  it('has monotonic buckets ending at +Inf equal to the count, and every sample line well formed', () => {
    const t = text();
    const buckets = [...t.matchAll(/^benchmark_request_duration_seconds_bucket\{benchmark="fs-load",service="file-storage",run="fs-load-g1-a1",operation="all",le="([^"]+)"\} (\d+)$/gm)];
    const counts = buckets.map((m) => Number(m[2]));
    expect(counts.length).toBeGreaterThan(5);
    expect(counts).toEqual([...counts].sort((a, b) => a - b));
    expect(buckets.at(-1)?.[1]).toBe('+Inf');
    expect(counts.at(-1)).toBe(700);
    for (const line of t.trim().split('\n')) {
      expect(line).toMatch(/^(# (HELP|TYPE) \w+ .+|[a-z_]+(\{([a-z_]+="([^"\\]|\\.)*",?)*\})? [-+0-9.eInfNa]+)$/);
    }
  });
});

describe('HTML report', () => {
  it('is one self-contained page with charts and tables, escaping text', () => {
    const html = renderHtml(result);
    expect(html).toMatch(/^<!doctype html>/);
    // uPlot is inlined; its licence comment names its home page, but nothing is loaded from anywhere.
    expect(html).not.toMatch(/<link|src=|href=/i);
    expect(html).toContain('<script type="application/json" id="aifb-data">');
    expect(html).toContain('data-chart="latency-distribution"');
    expect(html).toContain('data-chart="throughput"');
    expect(html).toContain('data-chart="ttft-distribution"');
    expect(html).toContain('connect failed, server said &quot;no&quot;');
    expect(html).not.toContain(NASTY);
    expect(html).toContain('SLO: <span');
    expect(html).toContain('<h2>Metrics</h2>');
    expect(html).toMatch(/<td>read<\/td><td>ttft<\/td><td>ms<\/td>/);
  });
});

describe('writeReports', () => {
  it('writes every format atomically and returns absolute paths', async () => {
    const out = join(dir, 'all');
    const formats: ReportFormat[] = ['json', 'csv', 'html', 'prometheus', 'json'];
    const paths = await writeReports(result, out, formats);
    expect(Object.keys(paths).sort()).toEqual(['csv', 'csvMetrics', 'csvTimeseries', 'html', 'json', 'prometheus']);
    for (const p of Object.values(paths)) expect(isAbsolute(p)).toBe(true);
    expect(paths.csv.endsWith('fs-load-g1-a1-operations.csv')).toBe(true);
    expect(paths.csvTimeseries.endsWith('fs-load-g1-a1-timeseries.csv')).toBe(true);
    const files = await readdir(out);
    expect(files.sort()).toEqual(Object.values(paths).map((p) => p.slice(out.length + 1)).sort()); // no temp files left
    expect(await readFile(paths.prometheus, 'utf8')).toBe(renderPrometheus(result));
  });

  it('makes a safe file name from an odd run id', async () => {
    const paths = await writeReports({ ...result, runId: '../x y' }, join(dir, 'odd'), ['json']);
    expect(paths.json).toBe(join(dir, 'odd', '.._x_y-report.json'));
  });

  it('rejects an unknown format by name', async () => {
    await expect(writeReports(result, join(dir, 'bad'), ['pdf' as ReportFormat])).rejects.toThrow(/unknown report format "pdf"/);
  });
});
