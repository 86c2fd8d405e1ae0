// A MonitoringStack on the local executor runs the real Prometheus and
// Pushgateway from Debian's packages. On a host where something already
// answers on their usual ports 9090 and 9091 (another user's stack, say), the
// stack's job chooses free ports, Prometheus scrapes the Pushgateway on the
// port chosen for it, the status names those ports, and the servers on 9090
// and 9091 are never asked anything. A stack pinned to a port another process
// holds fails at once, naming the field. Deleting the stack stops it.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { api, killLaunches, startController, stopProcess, until, workspace, type ControllerProcess, type Workspace } from './harness.js';

const USUAL = { prometheus: 9090, pushgateway: 9091 };

let controller: ControllerProcess | undefined;
let ws: Workspace | undefined;
const decoys: Server[] = [];
afterEach(async () => {
  if (controller) await stopProcess(controller.child);
  if (ws) killLaunches(ws);
  await Promise.all(decoys.splice(0).map((d) => new Promise((r) => d.close(r))));
  controller = ws = undefined;
});

/** A server on port that answers everything as a ready Prometheus would, and records what it was asked. */
async function decoy(port: number, requests: string[]): Promise<void> {
  const server = createServer((req, res) => {
    requests.push(`${port} ${req.method} ${req.url}`);
    res.end('Prometheus Server is Ready.\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e) => reject(new Error(`the decoy needs port ${port} free on this host: ${e.message}`)));
    server.listen(port, '0.0.0.0', resolve);
  });
  decoys.push(server);
}

const stackYaml = (spec: string) => `apiVersion: aifb.io/v1alpha1\nkind: MonitoringStack\nmetadata:\n  name: mon\nspec:\n${spec}`;

async function stackStatus(phases: string[], ms = 90_000) {
  return until(`the stack in ${phases.join('|')}`, async () => {
    const { body } = await api(controller!.url, '/api/v1/monitoringstacks/mon');
    return phases.includes(body.status?.phase) ? body.status : undefined;
  }, ms, 300);
}

describe('MonitoringStack on the local executor', () => {
  it('comes up on ports its job chose while 9090 and 9091 are taken, scrapes its own Pushgateway, and stops on delete', async () => {
    const requests: string[] = [];
    await decoy(USUAL.prometheus, requests);
    await decoy(USUAL.pushgateway, requests);
    ws = workspace();
    controller = await startController(ws);
    const file = join(ws.resources, 'mon.yaml');
    writeFileSync(file, stackYaml('  prometheus: { scrapeInterval: 1s }\n  grafana: { enabled: false }\n  access: { loginHost: login.example.org }\n'));
    const status = await stackStatus(['Ready', 'Failed', 'Retrying']);
    expect(status.phase, JSON.stringify(status)).toBe('Ready');
    const { prometheus, pushgateway } = status.endpoints;
    expect(prometheus.host).toBe('127.0.0.1');
    expect(pushgateway.host).toBe('127.0.0.1');
    expect([prometheus.port, pushgateway.port]).not.toContain(USUAL.prometheus);
    expect([prometheus.port, pushgateway.port]).not.toContain(USUAL.pushgateway);
    expect(prometheus.port).not.toBe(pushgateway.port);
    expect(Object.keys(status.endpoints).sort()).toEqual(['prometheus', 'pushgateway']);
    expect(status.tunnel).toBe(`ssh -L 9090:127.0.0.1:${prometheus.port} -L 9091:127.0.0.1:${pushgateway.port} ${userInfo().username}@login.example.org`);

    // The record the stack's own job wrote: its launch, its pid, and who holds each port.
    const dir = join(ws.state, 'monitoring', 'mon', 'g1-a1');
    const record = JSON.parse(readFileSync(join(dir, 'endpoint.json'), 'utf8'));
    const launch = JSON.parse(readFileSync(join(ws.state, 'procs', 'monitoringstack.mon.g1.a1.stack.json'), 'utf8'));
    expect(record).toMatchObject({
      host: '127.0.0.1',
      launchId: 'monitoringstack.mon.g1.a1.stack',
      pid: launch.pids[0],
      ports: { prometheus: prometheus.port, pushgateway: pushgateway.port },
      listenerPids: { prometheus: expect.any(Number), pushgateway: expect.any(Number) },
    });

    const prom = `http://127.0.0.1:${prometheus.port}`;
    expect(await (await fetch(`${prom}/-/ready`)).text()).toMatch(/Prometheus Server is Ready/);
    // Real servers: the Pushgateway takes a metric on its port, and Prometheus scrapes it from there.
    const push = await fetch(`http://127.0.0.1:${pushgateway.port}/metrics/job/aifb_test`, { method: 'PUT', body: 'aifb_e2e_value 42\n' });
    expect(push.status).toBe(200);
    const value = await until('the pushed metric in Prometheus', async () => {
      const body = (await (await fetch(`${prom}/api/v1/query?query=aifb_e2e_value`)).json()) as { data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
      return body.data.result[0];
    }, 30_000, 500);
    expect(value.metric).toMatchObject({ job: 'aifb_test' });
    expect(value.value[1]).toBe('42');
    const targets = (await (await fetch(`${prom}/api/v1/targets`)).json()) as { data: { activeTargets: { labels: { job: string }; scrapeUrl: string }[] } };
    expect(targets.data.activeTargets.map((t) => t.labels.job).sort()).toEqual(['aifb-controller', 'prometheus', 'pushgateway']);
    expect(targets.data.activeTargets.find((t) => t.labels.job === 'pushgateway')!.scrapeUrl).toBe(`http://127.0.0.1:${pushgateway.port}/metrics`);
    expect(requests).toEqual([]);

    rmSync(file);
    await until('Prometheus to stop', async () => {
      try {
        await fetch(`${prom}/-/ready`);
        return undefined;
      } catch {
        return true;
      }
    }, 30_000);
    await until('the API to forget it', async () => ((await api(controller!.url, '/api/v1/monitoringstacks/mon')).status === 404 ? true : undefined), 30_000);
    expect(requests).toEqual([]);
  }, 150_000);

  it('fails at once when a pinned port is held by another process, naming the field, without asking that process anything', async () => {
    const requests: string[] = [];
    await decoy(USUAL.prometheus, requests);
    ws = workspace();
    controller = await startController(ws);
    writeFileSync(join(ws.resources, 'mon.yaml'), stackYaml(`  prometheus: { port: ${USUAL.prometheus} }\n  grafana: { enabled: false }\n`));
    const status = await stackStatus(['Retrying', 'Failed', 'Ready'], 60_000);
    expect(status.phase, JSON.stringify(status)).not.toBe('Ready');
    expect(status.message).toContain(`port ${USUAL.prometheus} (spec.prometheus.port) is already in use`);
    expect(status.message).toContain('remove spec.prometheus.port so that the job chooses a free port');
    expect(requests).toEqual([]);
  }, 90_000);
});
