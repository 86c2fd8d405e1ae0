import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../../controller/server/app.js';
import { RunListBody } from '../../../controller/server/page-routes.js';
import type { ResourceView } from '../../../controller/server/view.js';
import type { RunRow } from '../../../monitoring/results/results-db.js';
import { FakeSource, views } from '../cli/fixtures.js';

let app: FastifyInstance | undefined;
const dirs: string[] = [];
afterEach(async () => {
  await app?.close();
  app = undefined;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const row = (runId: string, benchmark: string, reportJson?: string): RunRow => ({
  runId,
  benchmark,
  generation: 1,
  attempt: 1,
  startedAt: '2024-05-01T11:57:10Z',
  completedAt: '2024-05-01T11:57:40Z',
  durationS: 30,
  requests: 1500,
  errors: 3,
  dropped: 0,
  throughput: 49.96,
  p50Ms: 4.2,
  p90Ms: 8.5,
  p95Ms: 10.2,
  p99Ms: 12.3,
  p999Ms: 40,
  maxMs: 1203,
  sloPassed: true,
  ...(reportJson ? { reportJson } : {}),
});

/** A reports folder as the controller writes it, a secret beside it, and an app that knows one run of `web`. */
function reportsSetup() {
  const dir = mkdtempSync(join(tmpdir(), 'aifb-page-'));
  dirs.push(dir);
  const reports = join(dir, 'reports');
  const runDir = join(reports, 'web', 'web-g1-a1');
  mkdirSync(runDir, { recursive: true });
  const files = {
    json: join(runDir, 'web-g1-a1-report.json'),
    html: join(runDir, 'web-g1-a1-report.html'),
    csv: join(runDir, 'web-g1-a1-operations.csv'),
    prometheus: join(runDir, 'web-g1-a1.prom'),
    // Recorded, but outside the run's folder: never served.
    stray: join(dir, 'secret.json'),
    // Inside the folder, but a symlink to the secret.
    linked: join(runDir, 'linked.json'),
  };
  writeFileSync(files.json, '{"benchmark_id":"web-g1-a1"}');
  writeFileSync(files.html, '<!doctype html><p>report</p>');
  writeFileSync(files.csv, 'op,requests\nall,1500\n');
  writeFileSync(files.prometheus, 'benchmark_requests_total 1500\n');
  writeFileSync(files.stray, '{"secret":true}');
  symlinkSync(files.stray, files.linked);
  const runs = [row('web-g1-a1', 'web', files.json), row('other-g1-a1', 'other')];
  app = buildApp({
    source: new FakeSource(views()),
    runs: (b) => runs.filter((r) => b === undefined || r.benchmark === b),
    reports: { dir: reports, of: (id) => (id === 'web-g1-a1' ? { benchmark: 'web', files } : undefined) },
  });
  return { app, files };
}

describe('web page', () => {
  it('serves the page, its own script and uPlot, with no URL of another host', async () => {
    app = buildApp({ source: new FakeSource(views()) });
    const page = await app.inject({ url: '/' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    const srcs = [...page.body.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
    expect(srcs.filter((s) => s !== 'data:,').every((s) => s.startsWith('assets/'))).toBe(true);
    for (const src of srcs.filter((s) => s.startsWith('assets/'))) {
      const res = await app.inject({ url: `/${src}` });
      expect(res.statusCode, src).toBe(200);
      expect(res.headers['cache-control'], src).toBe('private, max-age=31536000, immutable');
      if (!src.includes('uplot')) expect(res.body, src).not.toMatch(/https?:\/\//);
    }
    expect(page.body).not.toMatch(/https?:\/\//);
    const uplot = await app.inject({ url: '/assets/uplot.js' });
    expect(uplot.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(uplot.body).toContain('uPlot');
    // Without the hash the browser revalidates, and an unchanged asset costs a 304.
    expect(uplot.headers['cache-control']).toBe('private, no-cache');
    const again = await app.inject({ url: '/assets/uplot.js', headers: { 'if-none-match': uplot.headers.etag as string } });
    expect(again.statusCode).toBe(304);
    expect((await app.inject({ url: '/assets/uplot.css' })).headers['content-type']).toBe('text/css; charset=utf-8');
    expect((await app.inject({ url: '/assets/nope.js' })).statusCode).toBe(404);
  });

  it('wants the token for the page and its assets when reads need it, as for the API', async () => {
    app = buildApp({ source: new FakeSource(views()), auth: { token: 't', reads: true, hint: 'h' } });
    for (const url of ['/', '/assets/page.js', '/assets/uplot.js', '/api/v1/runs', '/api/v1/reports/web/web-g1-a1/json']) {
      const res = await app.inject({ url });
      expect(res.statusCode, url).toBe(401);
      expect(res.json()).toEqual({ error: 'Unauthorized', message: 'h' });
    }
    const ok = await app.inject({ url: '/', headers: { authorization: 'Bearer t' } });
    expect(ok.statusCode).toBe(200);
    expect(ok.body).toContain('<title>aifb</title>');
    expect((await app.inject({ url: '/assets/page.js', headers: { authorization: 'Bearer t' } })).statusCode).toBe(200);
  });

  it('is open on loopback (reads need no token) like the rest of the API', async () => {
    app = buildApp({ source: new FakeSource(views()), auth: { token: 't', reads: false, hint: 'h' } });
    expect((await app.inject({ url: '/' })).statusCode).toBe(200);
  });

  it('lists finished runs newest first with links to their reports, one benchmark when asked', async () => {
    const { app } = reportsSetup();
    const all = RunListBody.parse((await app.inject({ url: '/api/v1/runs' })).json());
    expect(all.items.map((r) => r.runId)).toEqual(['web-g1-a1', 'other-g1-a1']);
    expect(all.items[0].reports).toMatchObject({ json: '/api/v1/reports/web/web-g1-a1/json', html: '/api/v1/reports/web/web-g1-a1/html' });
    // A run whose report files the database cannot give links none: every link is one the reports route serves.
    expect(all.items[1].reports).toEqual({});
    const one = (await app.inject({ url: '/api/v1/runs?benchmark=other' })).json();
    expect(one.items.map((r: RunRow) => r.runId)).toEqual(['other-g1-a1']);
    expect((await app.inject({ url: '/api/v1/runs?limit=1' })).json().items).toHaveLength(1);
    expect((await app.inject({ url: '/api/v1/runs?limit=0' })).statusCode).toBe(400);
  });

  it('lists no runs when the app has no results database', async () => {
    app = buildApp({ source: new FakeSource(views()) });
    expect((await app.inject({ url: '/api/v1/runs' })).json()).toEqual({ apiVersion: 'aifb.io/v1alpha1', kind: 'RunList', items: [] });
  });

  it('serves a run report with its content type', async () => {
    const { app } = reportsSetup();
    const json = await app.inject({ url: '/api/v1/reports/web/web-g1-a1/json' });
    expect(json.statusCode).toBe(200);
    expect(json.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(json.json()).toEqual({ benchmark_id: 'web-g1-a1' });
    const html = await app.inject({ url: '/api/v1/reports/web/web-g1-a1/html' });
    expect(html.headers['content-type']).toBe('text/html; charset=utf-8');
    // Its scripts run in an origin of their own, away from the API.
    expect(html.headers['content-security-policy']).toBe('sandbox allow-scripts');
    expect((await app.inject({ url: '/api/v1/reports/web/web-g1-a1/csv' })).headers['content-type']).toBe('text/csv; charset=utf-8');
    expect((await app.inject({ url: '/api/v1/reports/web/web-g1-a1/prometheus' })).headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
  });

  it("serves the current run's reports from its status", async () => {
    const { files } = reportsSetup();
    await app!.close();
    const web: ResourceView = {
      apiVersion: 'aifb.io/v1alpha1',
      kind: 'Benchmark',
      metadata: { name: 'web', file: '/r/web.yaml', index: 0 },
      spec: {},
      status: { phase: 'Succeeded', runId: 'web-g1-a1', reports: { json: files.json } },
      events: [],
    };
    const reports = join(files.json, '..', '..', '..');
    app = buildApp({ source: new FakeSource([web]), reports: { dir: reports, of: () => undefined } });
    expect((await app.inject({ url: '/api/v1/reports/web/web-g1-a1/json' })).json()).toEqual({ benchmark_id: 'web-g1-a1' });
  });

  it('refuses with 404 anything but a recorded report inside its run folder', async () => {
    const { app } = reportsSetup();
    const refused = [
      // `..` in the run id, encoded so it stays one path segment.
      '/api/v1/reports/web/..%2F..%2Fsecret.json/json',
      '/api/v1/reports/web/..%2Fweb-g1-a1/json',
      '/api/v1/reports/web/../json',
      '/api/v1/reports/..%2Fweb/web-g1-a1/json',
      // Recorded, but outside the run's folder, or a symlink out of it.
      '/api/v1/reports/web/web-g1-a1/stray',
      '/api/v1/reports/web/web-g1-a1/linked',
      // A format the run does not have, a run of another benchmark, a run nobody knows.
      '/api/v1/reports/web/web-g1-a1/yaml',
      '/api/v1/reports/other/web-g1-a1/json',
      '/api/v1/reports/web/web-g9-a9/json',
      '/api/v1/reports/web/web-g1-a1/constructor',
    ];
    for (const url of refused) {
      const res = await app.inject({ url });
      expect(res.statusCode, url).toBe(404);
      expect(res.body, url).not.toContain('"secret":true');
    }
  });
});
