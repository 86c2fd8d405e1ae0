import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../../controller/server/app.js';
import type { ResourceSource } from '../../../controller/server/view.js';
import { ControllerMetrics } from '../../../monitoring/controller-metrics.js';
import { collectRun } from '../../../monitoring/results/merge.js';
import { renderPrometheus } from '../../../monitoring/reports/prometheus.js';
import { FIXTURE_DECLS, latencies, writeRank } from './rank-fixtures.js';

const DASHBOARD = new URL('../../../monitoring/grafana/dashboards/ai-factory-benchmarking.json', import.meta.url);

interface Target { refId: string; expr?: string; url?: string; datasource?: { type: string; uid: string } }
interface Panel { id: number; type: string; title: string; gridPos: { x: number; y: number; w: number; h: number }; datasource?: { type: string; uid: string }; targets?: Target[] }

/** Metric names an expression uses, histogram/summary suffixes stripped, that `allowed` does not hold. */
function unknownNames(expr: string, allowed: ReadonlySet<string>): string[] {
  const names = [...expr.matchAll(/\b(benchmark|aifb)_[a-z0-9_]+/g)].map((m) => m[0].replace(/_(bucket|sum|count)$/, ''));
  return [...new Set(names)].filter((n) => !allowed.has(n));
}

let dir: string;
let dashboard: { uid: string; title: string; schemaVersion: number; panels: Panel[] };
let allowed: Set<string>;
const dsType = (p: Panel, t: Target) => (t.datasource ?? p.datasource)?.type;
const targets = (type: string) => dashboard.panels.flatMap((p) => (p.targets ?? []).filter((t) => dsType(p, t) === type).map((t) => ({ panel: p.title, ...t })));

beforeAll(async () => {
  dashboard = JSON.parse(await readFile(DASHBOARD, 'utf8'));
  // A run that declares every metric the dashboard charts, open loop and with goodput.
  dir = await mkdtemp(join(tmpdir(), 'aifb-grafana-'));
  const decls = [
    ...FIXTURE_DECLS,
    { name: 'itl', kind: 'timing' as const, unit: 'ms', help: 'inter-token latency' },
    { name: 'tpot', kind: 'timing' as const, unit: 'ms', help: 'time per output token' },
    { name: 'ttfb', kind: 'timing' as const, unit: 'ms', help: 'time to first byte', sinceSend: true },
  ];
  const metrics = { ttft: [5, 8, 12], itl: [1, 2, 3], tpot: [1.5, 2.5, 3], ttfb: [0.4, 0.9, 2], outputTokens: [120, 80, 200], recall: [0.9, 0.95, 1] };
  await writeRank(dir, { rank: 0, ops: { generate: latencies(3, 300) }, metrics: { generate: metrics }, decls, good: { generate: 280 }, targetRate: 30, sent: 300 });
  const result = await collectRun(dir, { runId: 'dash-g1-a1', benchmark: 'dash', generation: 1, attempt: 1 });
  const text = renderPrometheus(result);
  // What the controller's /metrics really serves.
  const controller = await new ControllerMetrics({ resources: () => new Map(), queueDepth: () => 0 }).text();
  allowed = new Set([...`${text}${controller}`.matchAll(/^# TYPE (\S+) \S+$/gm)].map((m) => m[1]));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('Grafana dashboard', () => {
  it('parses, has its uid and title, unique panel ids and panels that do not overlap', () => {
    expect(dashboard).toMatchObject({ uid: 'aifb-benchmarking', title: 'AI Factory Benchmarking', schemaVersion: 39 });
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    const overlaps: string[] = [];
    dashboard.panels.forEach((a, i) => {
      expect(a.gridPos, a.title).toMatchObject({ x: expect.any(Number), y: expect.any(Number), w: expect.any(Number), h: expect.any(Number) });
      expect(a.gridPos.x + a.gridPos.w, a.title).toBeLessThanOrEqual(24);
      for (const b of dashboard.panels.slice(i + 1)) {
        const [g, h] = [a.gridPos, b.gridPos];
        if (g.x < h.x + h.w && h.x < g.x + g.w && g.y < h.y + h.h && h.y < g.y + g.h) overlaps.push(`${a.title} / ${b.title}`);
      }
    });
    expect(overlaps).toEqual([]);
  });

  it('the fixture exports the declared metrics the dashboard charts', () => {
    for (const name of ['benchmark_ttft_seconds', 'benchmark_itl_seconds', 'benchmark_tpot_seconds', 'benchmark_ttfb_seconds', 'benchmark_output_tokens_total', 'benchmark_recall', 'benchmark_goodput_requests_per_second', 'benchmark_generator_kept_up']) {
      expect(allowed.has(name), name).toBe(true);
    }
  });

  it('every Prometheus query names only metrics aifb exports', () => {
    const prom = targets('prometheus');
    expect(prom.length).toBeGreaterThan(30);
    const bad = prom.map((t) => ({ panel: t.panel, refId: t.refId, unknown: unknownNames(t.expr ?? '', allowed) })).filter((b) => b.unknown.length > 0);
    expect(bad).toEqual([]);
  });

  it('benchmark queries filter by $job and $benchmark; controller queries do not', () => {
    for (const t of targets('prometheus')) {
      const benchmarkSeries = /\bbenchmark_[a-z0-9_]+/.test(t.expr!);
      expect(t.expr!.includes('job=~"$job"') && t.expr!.includes('benchmark=~"$benchmark"'), `${t.panel} ${t.refId}`).toBe(benchmarkSeries);
    }
  });

  it('every status API table asks for a route the API serves, which answers flat rows', async () => {
    const urls = targets('yesoreyeram-infinity-datasource').map((t) => t.url!);
    expect(urls.length).toBe(2);
    const source: ResourceSource = { list: async () => [], get: async () => undefined };
    const app = buildApp({ source });
    for (const url of [...urls, '/api/v1/table/nonsense']) {
      const res = await app.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBe(url.endsWith('nonsense') ? 404 : 200);
      if (res.statusCode === 200) expect(res.json()).toEqual([]);
    }
  });

  it('the checker catches a metric that does not exist', () => {
    expect(unknownNames('rate(benchmark_nonsense[1m])', allowed)).toEqual(['benchmark_nonsense']);
    expect(unknownNames('rate(benchmark_ttft_seconds_bucket[1m])', allowed)).toEqual([]);
  });
});
