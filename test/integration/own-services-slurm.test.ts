// Services that are really ours, under the real single-node SLURM: with a
// server already on vLLM's port 8000 of the node, two vLLM Service jobs
// (stand-in apptainer and vLLM) each choose a free port on the node, say so in
// their endpoint files with their job ids, and each benchmark job reaches its
// own server; the server on 8000 is never touched. One publishes the node's
// name, the other the address of spec.slurm.interface.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { api, startController, stopProcess, until, workspace, type ControllerProcess, type Workspace } from '../e2e/harness.js';
import { envWithFakes, requireSlurm } from './slurm-harness.js';

const VLLM_PORT = 8000;

let controller: ControllerProcess | undefined;
let ws: Workspace | undefined;
let decoy: Server | undefined;

beforeAll(() => requireSlurm());
afterEach(async () => {
  if (controller) await stopProcess(controller.child);
  // This test's jobs only, from the executor's records: other jobs on the cluster are not ours to end.
  const records = ws ? join(ws.state, 'slurm-jobs') : '';
  if (records && existsSync(records)) {
    for (const f of readdirSync(records).filter((f) => f.endsWith('.json'))) {
      const { jobId } = JSON.parse(readFileSync(join(records, f), 'utf8')) as { jobId: string };
      execFileSync('scancel', [jobId]);
    }
  }
  if (decoy) await new Promise((r) => decoy!.close(r));
  controller = ws = decoy = undefined;
});

const vllm = (name: string, model: string, extra = '') =>
  `apiVersion: aifb.io/v1alpha1\nkind: Service\nmetadata:\n  name: ${name}\nspec:\n  type: vllm\n  model: ${model}\n  gpus: 0\n  readiness: { interval: 1s, timeout: 60s }\n  retries: { max: 0 }\n${extra}`;

const load = (name: string, service: string, model: string) =>
  `apiVersion: aifb.io/v1alpha1\nkind: Benchmark\nmetadata:\n  name: ${name}\nspec:\n  serviceRef: ${service}\n  workload: { type: llm, model: ${model}, maxTokens: 4 }\n  load: { workers: 2, duration: 2s }\n  retries: { max: 0 }\n`;

async function phase(kind: string, name: string, phases: string[], ms = 120_000) {
  return until(`${kind}/${name} in ${phases.join('|')}`, async () => {
    const { body } = await api(controller!.url, `/api/v1/${kind}/${name}`);
    return phases.includes(body.status?.phase) ? body : undefined;
  }, ms, 500);
}

describe('services that are really ours, as SLURM jobs', { timeout: 240_000 }, () => {
  it('two vLLM jobs on one node choose their own ports, each benchmark reaches its own, the server on 8000 is never touched', async () => {
    const requests: string[] = [];
    decoy = createServer((req, res) => {
      requests.push(`${req.method} ${req.url}`);
      res.end('{}');
    });
    await new Promise<void>((resolve, reject) => {
      decoy!.once('error', (e) => reject(new Error(`the decoy needs port ${VLLM_PORT} free on this node: ${e.message}`)));
      decoy!.listen(VLLM_PORT, '0.0.0.0', resolve);
    });
    ws = workspace();
    controller = await startController(ws, ['--executor', 'slurm', '--poll', '1s'], envWithFakes());
    writeFileSync(join(ws.resources, 'a.yaml'), `${vllm('vllm-a', 'model-a')}---\n${load('load-a', 'vllm-a', 'model-a')}`);
    writeFileSync(join(ws.resources, 'b.yaml'), `${vllm('vllm-b', 'model-b', '  slurm: { interface: lo }\n')}---\n${load('load-b', 'vllm-b', 'model-b')}`);

    const a = await phase('services', 'vllm-a', ['Ready', 'Failed']);
    const b = await phase('services', 'vllm-b', ['Ready', 'Failed']);
    expect(a.status.phase, JSON.stringify(a.status)).toBe('Ready');
    expect(b.status.phase, JSON.stringify(b.status)).toBe('Ready');
    expect(a.status.endpoint.port).not.toBe(b.status.endpoint.port);
    expect([a.status.endpoint.port, b.status.endpoint.port]).not.toContain(VLLM_PORT);
    // The node's name, and the IPv4 address of the interface the spec names.
    expect(a.status.endpoint.host).toBe(execFileSync('hostname', { encoding: 'utf8' }).trim());
    expect(b.status.endpoint.host).toBe('127.0.0.1');

    // Each endpoint file: written by the service's own job, the listening process confirmed.
    for (const name of ['vllm-a', 'vllm-b']) {
      const dir = join(ws.state, 'services', name, 'g1-a1');
      const record = JSON.parse(readFileSync(join(dir, 'endpoint.json'), 'utf8'));
      const job = JSON.parse(readFileSync(join(ws.state, 'slurm-jobs', `service.${name}.g1.a1.service.json`), 'utf8'));
      expect(record).toMatchObject({ launchId: `service.${name}.g1.a1.service`, jobId: job.jobId, listenerPid: expect.any(Number) });
      // The job script chooses the port when it runs; nothing fixes it beforehand.
      expect(readFileSync(join(dir, 'service.sbatch'), 'utf8')).toMatch(/^export AIFB_PORT=free$/m);
    }

    for (const name of ['load-a', 'load-b']) {
      const done = await phase('benchmarks', name, ['Succeeded', 'Failed']);
      expect(done.status.phase, JSON.stringify(done.status)).toBe('Succeeded');
      expect(done.status.results.requests).toBeGreaterThan(0);
      expect(done.status.results.errors, JSON.stringify(done.status.results.errorReasons)).toBe(0);
    }
    expect(requests).toEqual([]);
  });
});
