// The status API's web page in headless Chromium, against a real controller: a
// benchmark shows as Running with a live chart, then Succeeded, and its run
// lands in the history with a report link that works.
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterEach, describe, expect, it } from 'vitest';
import { launchBrowser, watchedPage } from '../browser.js';
import { api, killLaunches, startController, stopProcess, until, workspace, type ControllerProcess, type Workspace } from './harness.js';

const SCREENSHOT = '/tmp/aifb-web-page.png';

let controller: ControllerProcess | undefined;
let ws: Workspace | undefined;
let browser: Browser | undefined;
let web: Server | undefined;
afterEach(async () => {
  await browser?.close();
  if (controller) await stopProcess(controller.child);
  if (ws) killLaunches(ws);
  if (web) await new Promise<void>((r) => web!.close(() => r()));
  browser = controller = ws = web = undefined;
});

/** Answers in 2-10 ms: a latency the p99 chart can show. */
async function webServer(): Promise<number> {
  let n = 0;
  web = createServer((_req, res) => {
    setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'), 2 + (++n % 9));
  });
  await new Promise<void>((r) => web!.listen(0, '127.0.0.1', r));
  return (web.address() as { port: number }).port;
}

const resources = (port: number) => `apiVersion: aifb.io/v1alpha1
kind: Service
metadata:
  name: web
spec:
  type: http
  endpoint: { host: 127.0.0.1, port: ${port} }
---
apiVersion: aifb.io/v1alpha1
kind: Benchmark
metadata:
  name: page-load
spec:
  serviceRef: web
  workload:
    type: http
    requests: [{ name: get, path: / }]
  load: { mode: open, rate: 100, duration: 8s }
  reports: { formats: [json, html, csv] }
`;

/** Pixels of the series' stroke colour on a chart's canvas: the line uPlot drew, not just its axes. */
const STROKE_PIXELS = `(() => {
  const canvas = document.querySelector('.run-card[data-benchmark="page-load"] .chart[data-series="rps"] canvas');
  if (!canvas) return -1;
  const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
  let n = 0;
  for (let i = 0; i < data.length; i += 4) if (data[i + 3] > 200 && Math.abs(data[i] - 37) < 24 && Math.abs(data[i + 1] - 99) < 24 && Math.abs(data[i + 2] - 235) < 24) n++;
  return n;
})()`;

describe('the web page', () => {
  it('shows a benchmark running with a live chart, then Succeeded, and its run with a working report link', async () => {
    ws = workspace();
    controller = await startController(ws);
    browser = await launchBrowser();
    const { page, errors } = await watchedPage(browser);
    await page.goto(`${controller.url}/`);
    await page.waitForSelector('#status[data-state="ok"]', { timeout: 10_000 });
    expect(await page.textContent('#benchmarks tbody')).toContain('no benchmarks');

    writeFileSync(join(ws.resources, 'page.yaml'), resources(await webServer()));
    const row = '#benchmarks tr[data-name="page-load"]';
    await page.waitForSelector(`${row} .phase[data-phase="Running"]`, { timeout: 60_000 });
    // The service shows too, with its phase and conditions.
    await page.waitForSelector('#services tr[data-name="web"] .phase[data-phase="Ready"]', { timeout: 10_000 });
    // A few polls in, the chart has points and the line is drawn.
    await page.waitForFunction(() => Number(document.querySelector<HTMLElement>('.run-card[data-benchmark="page-load"]')?.dataset.points) >= 2, undefined, {
      timeout: 20_000,
    });
    expect(await page.isVisible('#live')).toBe(true);
    await until('the throughput line on the canvas', async () => ((await page.evaluate<number>(STROKE_PIXELS)) > 20 ? true : undefined), 5_000, 100);
    expect(await page.textContent(`${row} td:nth-child(3)`)).toMatch(/^\d[\d,]*$/);

    await page.waitForSelector(`${row} .phase[data-phase="Succeeded"]`, { timeout: 60_000 });
    const { body } = await api(controller.url, '/api/v1/benchmarks/page-load');
    const runId = body.status.runId as string;
    expect(await page.textContent(`${row} ul.conditions`)).toContain('Ready=True');

    // The run in the history, with its reports linked.
    const link = `#runs tr[data-run="${runId}"] a[data-format="json"]`;
    await page.waitForSelector(link, { timeout: 10_000 });
    expect(await page.textContent(`#runs tr[data-run="${runId}"] td:nth-child(1)`)).toBe('page-load');
    expect(await page.locator(`#runs tr[data-run="${runId}"] .reports a`).allTextContents()).toEqual(expect.arrayContaining(['json', 'html', 'csv']));
    const href = await page.$eval(link, (a) => (a as HTMLAnchorElement).href);
    expect(href).toBe(`${controller.url}/api/v1/reports/page-load/${runId}/json`);
    const res = await fetch(href);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const report = (await res.json()) as { benchmark_id: string; summary: { total_requests: number } };
    expect(report.benchmark_id).toBe(runId);
    expect(report.summary.total_requests).toBe(body.status.results.requests);

    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(errors).toEqual([]);
  }, 150_000);
});
