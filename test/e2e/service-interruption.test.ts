// A service that goes away mid-run (issue 12): a real controller (local
// executor, the stand-in apptainer running the stand-in vLLM) runs a benchmark
// against a vLLM Service; the server is killed during the run. The run is
// stopped and marked interrupted (not reported, not an SLO failure), the
// service comes back as its next attempt, and the benchmark runs again against
// it, without that costing a retry.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { api, killLaunches, ROOT, startController, stopProcess, until, workspace, type ControllerProcess, type Workspace } from './harness.js';

let controller: ControllerProcess | undefined;
let ws: Workspace | undefined;
afterEach(async () => {
  if (controller) await stopProcess(controller.child);
  if (ws) killLaunches(ws);
  controller = ws = undefined;
});

async function get(kind: string, name: string): Promise<any> {
  return (await api(controller!.url, `/api/v1/${kind}/${name}`)).body;
}

describe('a service that goes away mid-run', () => {
  it('interrupts the run, marks it so, and runs again on the service’s next attempt without using up a retry', async () => {
    ws = workspace();
    controller = await startController(ws, [], { PATH: `${join(ROOT, 'test/fakes')}:${process.env.PATH}` });
    writeFileSync(
      join(ws.resources, 'svc.yaml'),
      [
        'apiVersion: aifb.io/v1alpha1',
        'kind: Service',
        'metadata: { name: vllm }',
        'spec:',
        '  type: vllm',
        '  model: m',
        '  gpus: 0',
        '  readiness: { interval: 300ms, timeout: 60s, watchInterval: 300ms }',
        '  retries: { max: 1, backoff: 1s }',
        '---',
        'apiVersion: aifb.io/v1alpha1',
        'kind: Benchmark',
        'metadata: { name: load }',
        'spec:',
        '  serviceRef: vllm',
        '  workload: { type: llm, model: m, maxTokens: 4 }',
        '  load: { workers: 2, duration: 6s }',
        '  slo: { errorRate: 0.01 }',
        '  retries: { max: 0 }',
        '',
      ].join('\n'),
    );
    const running = await until('the first run to be under way', async () => {
      const b = await get('benchmarks', 'load');
      return b.status?.phase === 'Running' && (b.status.progress?.requests ?? 0) > 0 ? b : undefined;
    }, 90_000, 200);
    const firstRun = running.status.runId as string;
    const endpoint = JSON.parse(readFileSync(join(ws.state, 'services', 'vllm', 'g1-a1', 'endpoint.json'), 'utf8'));
    expect(endpoint.listenerPid).toBeGreaterThan(0);
    process.kill(endpoint.listenerPid, 'SIGKILL');

    const done = await until('the benchmark to end', async () => {
      const b = await get('benchmarks', 'load');
      return ['Succeeded', 'Failed'].includes(b.status?.phase) ? b : undefined;
    }, 120_000, 300);
    expect(done.status.phase, JSON.stringify(done.status)).toBe('Succeeded');
    // retries.max 0, yet a second attempt: the interruption used up no retry.
    expect(done.status.attempts).toBe(2);
    expect(done.status.runId).not.toBe(firstRun);
    expect(done.status.results.errors).toBe(0);
    const svc = await get('services', 'vllm');
    expect(svc.status).toMatchObject({ phase: 'Ready', attempts: 2 });
    // The first run is said to be interrupted where its files are, and is no result.
    const marker = join(ws.state, 'runs', 'load', firstRun, 'interrupted.json');
    expect(existsSync(marker), marker).toBe(true);
    expect(JSON.parse(readFileSync(marker, 'utf8')).reason).toMatch(/service vllm (left Ready|was started again)/);
    const { body: runs } = await api(controller!.url, '/api/v1/runs');
    expect(JSON.stringify(runs)).not.toContain(`"${firstRun}"`);
    expect(done.events.map((e: { reason: string }) => e.reason)).toContain('Interrupted');
  }, 240_000);
});
