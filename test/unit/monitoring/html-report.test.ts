import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Slo } from '../../../api/schemas.js';
import type { MetricDecl } from '../../../api/metrics.js';
import { rankFile } from '../../../api/runner-contract.js';
import { writeReports } from '../../../monitoring/reports/index.js';
import { collectRun, type RunMeta } from '../../../monitoring/results/merge.js';
import type { RunResult } from '../../../monitoring/results/model.js';
import { collectResults } from '../../../monitoring/results/sweep.js';
import { launchBrowser, watchedPage } from '../../browser.js';
import { FIXTURE_DECLS, latencies, row, writeRank, type RankFixture } from './rank-fixtures.js';

// Not under test-results/: that folder is not git-ignored in this repo.
const SHOTS = join(tmpdir(), 'aifb-test-results');

const DECLS: MetricDecl[] = [
  ...FIXTURE_DECLS.filter((d) => d.name !== 'recall'),
  { name: 'itl', kind: 'timing', unit: 'ms', help: 'inter-token latency' },
  { name: 'tpot', kind: 'timing', unit: 'ms', help: 'time per output token' },
  { name: 'recall', kind: 'value', unit: 'ratio', help: 'recall@10', interval: 'wilson' },
];
const meta = (runId: string, extra: Partial<RunMeta> = {}): RunMeta => ({ runId, benchmark: runId.split('-g')[0], generation: 1, attempt: 1, ...extra });
const series = (n: number, rate: number) => Array.from({ length: n }, (_, s) => row(s, rate + (s % 3) * 7, 1 + s / 10, 3 + (s % 4), { warmup: s < 2, errors: s % 5 === 4 ? 2 : 0 }));

/** A sweep folder: one point per fixture under points/<i>, and rank 0's sweep file naming them. */
async function writeSweep(dir: string, points: { fixture: RankFixture; rate?: number; parameter?: { name: string; value: number } }[]): Promise<void> {
  for (const [i, p] of points.entries()) await writeRank(join(dir, 'points', String(i)), p.fixture);
  const sweep = points.map((p, index) => ({ index, dir: `points/${index}`, ...(p.rate ? { rate: p.rate } : {}), ...(p.parameter ? { parameter: p.parameter } : {}) }));
  await writeFile(join(dir, rankFile(0, 'sweep')), JSON.stringify({ points: sweep, ended: 'every point ran' }));
}

/** Per-request recall: most queries find all 10 neighbours, fewer as `miss` grows. */
const recalls = (n: number, miss: number) => Array.from({ length: n }, (_, i) => (i % 10 < miss ? 0.8 : 1));

const NASTY_OP = 'write</script><!--';
let dir: string;
let browser: Browser;
/** One page for every report (a new page costs more than a load); its records are cleared per report. */
let page: Page;
let errors: string[];
const requests: string[] = [];
const runs: Record<string, RunResult> = {};
const files: Record<string, string> = {};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'aifb-html-'));
  const [launched] = await Promise.all([
    launchBrowser(),
    (async () => {
      const http = join(dir, 'http');
      await writeRank(http, {
        rank: 0,
        runId: 'http-load-g1-a1',
        // An operation name that would end the data blob's <script> if it were not escaped.
        ops: { read: latencies(1, 600), [NASTY_OP]: latencies(2, 200, 5000) },
        errors: { [NASTY_OP]: 3 },
        errorsByReason: { [NASTY_OP]: { 'connect failed </script>': 3 } },
        timeseries: series(12, 60),
      });
      runs.http = await collectRun(http, meta('http-load-g1-a1', { slo: Slo.parse({ p99: '5ms' }) }));

      const llm = join(dir, 'llm');
      await writeSweep(
        llm,
        [10, 20, 40].map((rate, i) => ({
          rate,
          fixture: {
            rank: 0,
            runId: 'llm-sweep-g1-a1',
            decls: DECLS,
            ops: { generate: latencies(10 + i, rate * 10, 20_000 * (i + 1)) },
            metrics: { generate: { ttft: latencies(20 + i, 60, 50_000 * (i + 1)).map((us) => us / 1000), itl: latencies(30 + i, 300, 8000).map((us) => us / 1000), tpot: latencies(40 + i, 60, 10), outputTokens: Array(60).fill(128) } },
            timeseries: series(12, rate),
          },
        })),
      );
      runs.llm = await collectResults(llm, meta('llm-sweep-g1-a1'));

      const vector = join(dir, 'vector');
      await writeSweep(
        vector,
        [16, 64, 256].map((ef, i) => ({
          parameter: { name: 'efSearch', value: ef },
          fixture: { rank: 0, runId: 'vector-sweep-g1-a1', decls: DECLS, ops: { query: latencies(50 + i, 900 - 250 * i, 500 * (i + 1)) }, metrics: { query: { recall: recalls(900 - 250 * i, 3 - i) } }, timeseries: series(12, 90 - 25 * i) },
        })),
      );
      runs.vector = await collectResults(vector, meta('vector-sweep-g1-a1'));

      const single = join(dir, 'single');
      await writeRank(single, { rank: 0, runId: 'vector-one-g1-a1', decls: DECLS, ops: { query: latencies(60, 400) }, metrics: { query: { recall: recalls(400, 2) } }, timeseries: series(12, 40) });
      runs.single = await collectRun(single, meta('vector-one-g1-a1'));

      const empty = join(dir, 'empty');
      await writeRank(empty, { rank: 0, runId: 'empty-g1-a1', ops: { read: [] }, timeseries: null });
      runs.empty = await collectRun(empty, meta('empty-g1-a1'));
      for (const [k, r] of Object.entries(runs)) files[k] = (await writeReports(r, join(dir, 'out', k), ['html'])).html;
    })(),
  ]);
  browser = launched;
  ({ page, errors } = await watchedPage(browser));
  page.on('request', (q) => requests.push(q.url()));
});
afterAll(async () => {
  await browser?.close();
  await rm(dir, { recursive: true, force: true });
});

interface Drawn {
  name: string;
  canvases: number;
  /** Non-transparent pixels of the chart's canvas. */
  painted: number;
  /** Pixels in the first series' colour (#1f6feb), near enough: the data itself was drawn, not only axes. */
  seriesPixels: number;
}

/** Opens a report as a user would and reads back what each chart container drew. */
async function open(file: string, screenshot?: string) {
  errors.length = 0;
  requests.length = 0;
  await page.goto(`file://${file}`);
  // A string, not a function: the test transform may add helpers a page does not have.
  const charts = (await page.evaluate(`[...document.querySelectorAll('[data-chart]')].map((el) => {
    const c = el.querySelector('canvas');
    let painted = 0, seriesPixels = 0;
    if (c) {
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      for (let i = 0; i < d.length; i += 4) {
        if (d[i + 3] > 0) painted++;
        if (d[i + 3] > 200 && Math.abs(d[i] - 31) < 24 && Math.abs(d[i + 1] - 111) < 24 && Math.abs(d[i + 2] - 235) < 24) seriesPixels++;
      }
    }
    return { name: el.dataset.chart, canvases: el.querySelectorAll('canvas').length, painted, seriesPixels };
  })`)) as Drawn[];
  const noData = await page.locator('.no-data').allTextContents();
  if (screenshot) {
    await mkdir(SHOTS, { recursive: true });
    await page.screenshot({ path: join(SHOTS, screenshot), fullPage: true });
    console.log(`screenshot: ${join(SHOTS, screenshot)}`);
  }
  return { charts, errors: [...errors], noData, requests: [...requests] };
}

function expectDrawn(charts: Drawn[], names: string[]) {
  expect(charts.map((c) => c.name)).toEqual(expect.arrayContaining(names));
  for (const c of charts) {
    expect(c.canvases, c.name).toBe(1);
    expect(c.painted, c.name).toBeGreaterThan(1000);
    expect(c.seriesPixels, c.name).toBeGreaterThan(10);
  }
}

describe('HTML report in a browser', () => {
  it('draws latency, throughput and latency-over-time charts with no console error and no network', async () => {
    const { charts, errors, noData, requests } = await open(files.http, 'html-report-http.png');
    expect(errors).toEqual([]);
    expect(requests.every((u) => u.startsWith('file:') || u.startsWith('data:'))).toBe(true);
    expectDrawn(charts, ['latency-distribution', 'throughput', 'latency-over-time']);
    expect(noData).toEqual([]);
  });

  it('an LLM sweep adds ttft, itl and tpot distributions and the throughput/latency curve', async () => {
    const { charts, errors } = await open(files.llm, 'html-report.png');
    expect(errors).toEqual([]);
    expectDrawn(charts, ['latency-distribution', 'throughput', 'ttft-distribution', 'itl-distribution', 'tpot-distribution', 'throughput-vs-latency']);
  });

  it('a vector sweep draws recall against QPS, one point per efSearch value', async () => {
    const { charts, errors } = await open(files.vector, 'html-report-vector.png');
    expect(errors).toEqual([]);
    expectDrawn(charts, ['recall-vs-qps', 'throughput-vs-latency', 'latency-distribution']);
    const html = await readFile(files.vector, 'utf8');
    expect(html).toContain('efSearch = 256, 64, 16 from left to right'); // QPS falls as efSearch grows
  });

  it('a vector run that is not a sweep draws its one recall point', async () => {
    const { charts, errors } = await open(files.single);
    expect(errors).toEqual([]);
    expectDrawn(charts, ['recall-vs-qps']);
  });

  it('shows a "no data" note, never an empty chart, for a run with no time series and no requests', async () => {
    const { charts, errors, noData } = await open(files.empty);
    expect(errors).toEqual([]);
    expect(charts).toEqual([]);
    expect(noData.join('\n')).toMatch(/No data: the runners recorded no per-second rows/);
    expect(noData.join('\n')).toMatch(/No data: no request latency was recorded/);
  });
});

describe('HTML report file', () => {
  it('inlines uPlot and one data blob, escapes what could end a script, and names no external resource', async () => {
    for (const file of Object.values(files)) {
      const html = await readFile(file, 'utf8');
      expect(html).not.toMatch(/(src|href)\s*=\s*["']?\s*(https?:)?\/\//i);
      expect(html).not.toMatch(/<link\b|@import|url\(\s*["']?https?:/i);
      expect(html.match(/<script type="application\/json" id="aifb-data">/g)).toHaveLength(1);
    }
    const html = await readFile(files.http, 'utf8');
    expect(html).toContain('var uPlot=');
    const blob = html.match(/<script type="application\/json" id="aifb-data">([\s\S]*?)<\/script>/)![1];
    expect(blob).not.toContain('</');
    expect(JSON.parse(blob).charts.map((c: { name: string }) => c.name)).toEqual(['latency-distribution', 'throughput', 'latency-over-time']);
    expect(JSON.parse(blob).charts[0].series.map((s: { label: string }) => s.label)).toEqual(['read', NASTY_OP, 'all']);
    expect(html).toContain('<td>write&lt;/script&gt;&lt;!--</td><td>connect failed &lt;/script&gt;</td>');
    expect(html).toContain('SLO: <span');
    const sizes = await Promise.all(Object.entries(files).map(async ([k, f]) => `${k} ${((await readFile(f)).length / 1024).toFixed(1)} KB`));
    console.log(`report sizes: ${sizes.join(', ')}`);
  });
});
