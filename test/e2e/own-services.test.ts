// Services that are really ours (issue 12): on a host where something already
// listens on vLLM's port 8000 (another user's server, say), a real controller
// (local executor, the stand-in apptainer running the stand-in vLLM) starts two
// vLLM Services without spec.port. Each job chooses its own free port, each
// benchmark reaches its own server (each serves another model; the fake vLLM
// answers 404 for a model it does not serve), and the server on 8000 is never
// probed nor benchmarked. A Service pinned to 8000 fails, saying so.
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { api, killLaunches, ROOT, startController, stopProcess, until, workspace, type ControllerProcess, type Workspace } from './harness.js';

const VLLM_PORT = 8000;

let controller: ControllerProcess | undefined;
let ws: Workspace | undefined;
let decoy: Server | undefined;
afterEach(async () => {
  if (controller) await stopProcess(controller.child);
  if (ws) killLaunches(ws);
  if (decoy) await new Promise((r) => decoy!.close(r));
  controller = ws = decoy = undefined;
});

/** A server on vLLM's port that answers everything as a healthy vLLM would start to, and counts what it was asked. */
async function startDecoy(): Promise<{ requests: string[] }> {
  const requests: string[] = [];
  decoy = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ object: 'list', data: [{ id: 'model-a', object: 'model' }] }));
  });
  await new Promise<void>((resolve, reject) => {
    decoy!.once('error', (e) => reject(new Error(`the decoy needs port ${VLLM_PORT} free on this host: ${e.message}`)));
    decoy!.listen(VLLM_PORT, '0.0.0.0', resolve);
  });
  return { requests };
}

const vllm = (name: string, model: string, extra = '') =>
  `apiVersion: aifb.io/v1alpha1\nkind: Service\nmetadata:\n  name: ${name}\nspec:\n  type: vllm\n  model: ${model}\n  gpus: 0\n  readiness: { interval: 500ms, timeout: 60s }\n  retries: { max: 0 }\n${extra}`;

const load = (name: string, service: string, model: string) =>
  `apiVersion: aifb.io/v1alpha1\nkind: Benchmark\nmetadata:\n  name: ${name}\nspec:\n  serviceRef: ${service}\n  workload: { type: llm, model: ${model}, maxTokens: 4 }\n  load: { workers: 2, duration: 2s }\n  retries: { max: 0 }\n`;

async function phase(kind: string, name: string, phases: string[], ms = 90_000) {
  return until(`${kind}/${name} in ${phases.join('|')}`, async () => {
    const { body } = await api(controller!.url, `/api/v1/${kind}/${name}`);
    return phases.includes(body.status?.phase) ? body : undefined;
  }, ms, 300);
}

describe('services that are really ours', () => {
  it('two vLLMs on one host come up on ports their jobs chose, each benchmark reaches its own, and the server already on 8000 is never touched', async () => {
    const { requests } = await startDecoy();
    ws = workspace();
    controller = await startController(ws, [], { PATH: `${join(ROOT, 'test/fakes')}:${process.env.PATH}` });
    writeFileSync(join(ws.resources, 'a.yaml'), `${vllm('vllm-a', 'model-a')}---\n${load('load-a', 'vllm-a', 'model-a')}`);
    writeFileSync(join(ws.resources, 'b.yaml'), `${vllm('vllm-b', 'model-b')}---\n${load('load-b', 'vllm-b', 'model-b')}`);

    const [a, b] = [await phase('services', 'vllm-a', ['Ready', 'Failed']), await phase('services', 'vllm-b', ['Ready', 'Failed'])];
    expect(a.status.phase, JSON.stringify(a.status)).toBe('Ready');
    expect(b.status.phase, JSON.stringify(b.status)).toBe('Ready');
    expect(a.status.endpoint.port).not.toBe(b.status.endpoint.port);
    expect([a.status.endpoint.port, b.status.endpoint.port]).not.toContain(VLLM_PORT);

    for (const name of ['load-a', 'load-b']) {
      const done = await phase('benchmarks', name, ['Succeeded', 'Failed']);
      expect(done.status.phase, JSON.stringify(done.status)).toBe('Succeeded');
      // Every request answered by a server that serves the benchmark's model: its own.
      expect(done.status.results.requests).toBeGreaterThan(0);
      expect(done.status.results.errors, JSON.stringify(done.status.results.errorReasons)).toBe(0);
    }
    expect(requests).toEqual([]);
  }, 180_000);

  it('fails a Service pinned to a port another process holds, naming it, without probing that process', async () => {
    const { requests } = await startDecoy();
    ws = workspace();
    controller = await startController(ws, [], { PATH: `${join(ROOT, 'test/fakes')}:${process.env.PATH}` });
    writeFileSync(join(ws.resources, 'pinned.yaml'), vllm('pinned', 'model-a', `  port: ${VLLM_PORT}\n`));
    const failed = await phase('services', 'pinned', ['Failed', 'Ready']);
    expect(failed.status.phase).toBe('Failed');
    expect(failed.status.message).toContain(`port ${VLLM_PORT} (spec.port) is already in use`);
    expect(requests).toEqual([]);
  }, 120_000);
});
