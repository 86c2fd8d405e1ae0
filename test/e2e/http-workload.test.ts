// examples/http.yaml end to end: the controller starts Python's web server as a
// Service on this host, the http workload runs against it, and the workload's
// own metrics (ttfb, bytes) reach the status block and the reports.
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { api, killLaunches, ROOT, startController, stopProcess, until, workspace, type ControllerProcess, type Workspace } from './harness.js';

let controller: ControllerProcess | undefined;
let ws: Workspace | undefined;
afterEach(async () => {
  if (controller) await stopProcess(controller.child);
  // A stopped controller leaves what it launched running (to adopt it later): the example's web server on 18080.
  if (ws) killLaunches(ws);
  controller = undefined;
});

describe('the http workload from its example', () => {
  it('runs examples/http.yaml to Succeeded with ttfb and bytes per named request', async () => {
    ws = workspace();
    controller = await startController(ws);
    copyFileSync(join(ROOT, 'examples/http.yaml'), join(ws!.resources, 'http.yaml'));
    const done = await until('Succeeded', async () => {
      const { body } = await api(controller!.url, '/api/v1/benchmarks/http-load');
      if (body.status?.phase === 'Failed') throw new Error(`benchmark failed: ${JSON.stringify(body.status)}`);
      return body.status?.phase === 'Succeeded' ? body : undefined;
    }, 60_000);
    const { results, reports } = done.status;
    expect(results.errors).toBe(0);
    expect(results.metrics.ttfb).toMatchObject({ unit: 'ms' });
    expect(results.metrics.ttfb.p50).toBeGreaterThan(0);
    expect(results.metrics.bytes.sum).toBeGreaterThan(0);
    const report = JSON.parse(readFileSync(reports.json, 'utf8'));
    expect(Object.keys(report.operations).sort()).toEqual(['index', 'missing']);
    // The expected 404s are successes of their own operation.
    expect(report.operations.missing).toMatchObject({ failed: 0 });
    expect(report.operations.missing.successful).toBeGreaterThan(0);
    expect(report.operations.index.metrics.ttfb.p99).toBeLessThanOrEqual(report.operations.index.latencyMs.p99);
  }, 90_000);
});
