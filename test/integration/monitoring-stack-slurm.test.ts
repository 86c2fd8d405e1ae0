// A MonitoringStack as a SLURM job on the real single-node cluster, its
// components as containers (the stand-in apptainer runs Debian's Prometheus and
// Pushgateway): with servers already on 9090 and 9091 of the node, the job
// chooses free ports, writes the stack's endpoint record itself with its SLURM
// job id, Prometheus scrapes the Pushgateway on the port chosen for it, and the
// servers on 9090 and 9091 are never asked anything.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { api, startController, stopProcess, until, workspace, type ControllerProcess, type Workspace } from '../e2e/harness.js';
import { envWithFakes, requireSlurm } from './slurm-harness.js';

const USUAL = [9090, 9091];

let controller: ControllerProcess | undefined;
let ws: Workspace | undefined;
const decoys: Server[] = [];

beforeAll(() => requireSlurm());
afterEach(async () => {
  if (controller) await stopProcess(controller.child);
  // This test's jobs only, from the executor's records: other jobs on the cluster are not ours to end.
  const records = ws ? join(ws.state, 'slurm-jobs') : '';
  if (records && existsSync(records)) {
    for (const f of readdirSync(records).filter((f) => f.endsWith('.json'))) {
      const { jobId } = JSON.parse(readFileSync(join(records, f), 'utf8')) as { jobId: string };
      if (jobId) execFileSync('scancel', [jobId]);
    }
  }
  await Promise.all(decoys.splice(0).map((d) => new Promise((r) => d.close(r))));
  controller = ws = undefined;
});

/** The stand-in apptainer runs the pushgateway image as `pushgateway`; Debian names it prometheus-pushgateway. */
function pushgatewayOnPath(): string {
  const bin = mkdtempSync(join(tmpdir(), 'aifb-bin-'));
  symlinkSync('/usr/bin/prometheus-pushgateway', join(bin, 'pushgateway'));
  return bin;
}

describe('MonitoringStack as a SLURM job', { timeout: 240_000 }, () => {
  it('chooses free ports on the node while 9090 and 9091 are taken, records them with its job id, and scrapes its own Pushgateway', async () => {
    const requests: string[] = [];
    for (const port of USUAL) {
      const server = createServer((req, res) => {
        requests.push(`${port} ${req.method} ${req.url}`);
        res.end('ok\n');
      });
      await new Promise<void>((resolve, reject) => {
        server.once('error', (e) => reject(new Error(`the decoy needs port ${port} free on this node: ${e.message}`)));
        server.listen(port, '0.0.0.0', resolve);
      });
      decoys.push(server);
    }
    ws = workspace();
    const env = envWithFakes();
    controller = await startController(ws, ['--executor', 'slurm', '--poll', '1s'], { ...env, PATH: `${pushgatewayOnPath()}:${env.PATH}` });
    writeFileSync(
      join(ws.resources, 'mon.yaml'),
      'apiVersion: aifb.io/v1alpha1\nkind: MonitoringStack\nmetadata:\n  name: mon\nspec:\n  prometheus: { scrapeInterval: 1s }\n  grafana: { enabled: false }\n',
    );
    const status = await until('the stack Ready', async () => {
      const { body } = await api(controller!.url, '/api/v1/monitoringstacks/mon');
      return ['Ready', 'Failed'].includes(body.status?.phase) ? body.status : undefined;
    }, 180_000, 500);
    expect(status.phase, JSON.stringify(status)).toBe('Ready');
    const { prometheus, pushgateway } = status.endpoints;
    const node = execFileSync('hostname', { encoding: 'utf8' }).trim();
    expect(prometheus.host).toBe(node);
    expect(pushgateway.host).toBe(node);
    for (const port of USUAL) expect([prometheus.port, pushgateway.port]).not.toContain(port);
    expect(status.tunnel).toContain(`-L 9090:${node}:${prometheus.port} -L 9091:${node}:${pushgateway.port} `);

    // Written by the stack's own job, not by the executor: its job id, and who holds each port.
    const dir = join(ws.state, 'monitoring', 'mon', 'g1-a1');
    const job = JSON.parse(readFileSync(join(ws.state, 'slurm-jobs', 'monitoringstack.mon.g1.a1.stack.json'), 'utf8'));
    expect(JSON.parse(readFileSync(join(dir, 'endpoint.json'), 'utf8'))).toMatchObject({
      host: node,
      launchId: 'monitoringstack.mon.g1.a1.stack',
      jobId: job.jobId,
      ports: { prometheus: prometheus.port, pushgateway: pushgateway.port },
      listenerPids: { prometheus: expect.any(Number), pushgateway: expect.any(Number) },
    });
    // The job script chooses the ports when it runs; nothing fixes them beforehand.
    const script = readFileSync(join(dir, 'stack.sbatch'), 'utf8');
    expect(script).toMatch(/^export AIFB_PROMETHEUS_PORT=free$/m);
    expect(script).toMatch(/^export AIFB_PUSHGATEWAY_PORT=free$/m);

    const push = await fetch(`http://${node}:${pushgateway.port}/metrics/job/aifb_slurm`, { method: 'PUT', body: 'aifb_slurm_value 7\n' });
    expect(push.status).toBe(200);
    const value = await until('the pushed metric in Prometheus', async () => {
      const body = (await (await fetch(`http://${node}:${prometheus.port}/api/v1/query?query=aifb_slurm_value`)).json()) as { data: { result: { value: [number, string] }[] } };
      return body.data.result[0]?.value[1];
    }, 60_000, 500);
    expect(value).toBe('7');
    expect(requests).toEqual([]);
  });
});
