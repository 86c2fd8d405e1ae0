// A MonitoringStack on the local executor runs the real Prometheus and
// Pushgateway from Debian's packages, reports where they answer, and stops them.
import { writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { api, killLaunches, startController, stopProcess, until, workspace, type ControllerProcess, type Workspace } from './harness.js';

let controller: ControllerProcess | undefined;
let ws: Workspace | undefined;
afterEach(async () => {
  if (controller) await stopProcess(controller.child);
  if (ws) killLaunches(ws);
  controller = undefined;
});

describe('MonitoringStack on the local executor', () => {
  it('starts Prometheus and Pushgateway, publishes their endpoints, and stops them on delete', async () => {
    ws = workspace();
    controller = await startController(ws);
    const file = join(ws.resources, 'mon.yaml');
    writeFileSync(
      file,
      'apiVersion: aifb.io/v1alpha1\nkind: MonitoringStack\nmetadata:\n  name: mon\nspec:\n  prometheus: { port: 19090 }\n  pushgateway: { port: 19091 }\n  grafana: { enabled: false }\n',
    );
    const ready = await until('Ready', async () => {
      const { body } = await api(controller!.url, '/api/v1/monitoringstacks/mon');
      if (body.status?.phase === 'Failed') throw new Error(JSON.stringify(body.status));
      return body.status?.phase === 'Ready' ? body : undefined;
    }, 90_000, 300);
    expect(ready.status.endpoints).toEqual({ prometheus: { host: '127.0.0.1', port: 19090 }, pushgateway: { host: '127.0.0.1', port: 19091 } });
    // Real servers: Pushgateway takes a metric, Prometheus is configured to scrape it and the controller.
    const push = await fetch('http://127.0.0.1:19091/metrics/job/aifb_test', { method: 'PUT', body: 'aifb_e2e_value 42\n' });
    expect(push.status).toBe(200);
    expect(await (await fetch('http://127.0.0.1:19091/metrics')).text()).toMatch(/aifb_e2e_value\{.*job="aifb_test".*\} 42/);
    const jobs = await until('Prometheus to list its targets', async () => {
      const targets = (await (await fetch('http://127.0.0.1:19090/api/v1/targets')).json()) as { data: { activeTargets: { labels: { job: string } }[] } };
      const names = targets.data.activeTargets.map((t) => t.labels.job).sort();
      return names.length > 0 ? names : undefined;
    }, 30_000);
    expect(jobs).toEqual(['aifb-controller', 'prometheus', 'pushgateway']);

    rmSync(file);
    await until('Prometheus to stop', async () => {
      try {
        await fetch('http://127.0.0.1:19090/-/ready');
        return undefined;
      } catch {
        return true;
      }
    }, 30_000);
    await until('the API to forget it', async () => ((await api(controller!.url, '/api/v1/monitoringstacks/mon')).status === 404 ? true : undefined), 30_000);
  }, 120_000);
});
