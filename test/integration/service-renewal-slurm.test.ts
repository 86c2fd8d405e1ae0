// A Service's time limit against its Benchmark's run (issue 12), under the real
// single-node SLURM: the service's job is shortened with scontrol, a benchmark
// that would outlast it renews the service first (a new job, no interruption,
// no retry) and then succeeds; one that no job of it could hold fails at once.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { api, startController, stopProcess, until, workspace, type ControllerProcess } from '../e2e/harness.js';
import { allJobs, cancelAifbJobs, envWithFakes, requireSlurm } from './slurm-harness.js';

const started: ControllerProcess[] = [];
beforeAll(() => requireSlurm());
afterEach(async () => {
  for (const c of started.splice(0)) await stopProcess(c.child);
  cancelAifbJobs();
});
afterAll(() => cancelAifbJobs());

const get = async (c: ControllerProcess, kind: string, name: string): Promise<any> => (await api(c.url, `/api/v1/${kind}/${name}`)).body;

const benchmark = (name: string, duration: string) =>
  [
    'apiVersion: aifb.io/v1alpha1',
    'kind: Benchmark',
    'metadata:',
    `  name: ${name}`,
    'spec:',
    '  serviceRef: vllm',
    '  workload: { type: llm, maxTokens: 2 }',
    `  load: { workers: 1, duration: ${duration} }`,
    '  retries: { max: 0 }',
    '',
  ].join('\n');

describe('a Service whose SLURM job ends before a Benchmark’s run would', { timeout: 300_000 }, () => {
  it('is renewed before the run starts; a run longer than its whole spec.slurm.time fails at once', async () => {
    const ws = workspace();
    const c = await startController(ws, ['--executor', 'slurm', '--poll', '1s'], envWithFakes());
    started.push(c);
    writeFileSync(
      join(ws.resources, 'vllm.yaml'),
      [
        'apiVersion: aifb.io/v1alpha1',
        'kind: Service',
        'metadata: { name: vllm }',
        'spec:',
        '  type: vllm',
        '  model: m',
        '  gpus: 0',
        '  readiness: { interval: 1s, timeout: 60s }',
        '  retries: { max: 0 }',
        '  slurm: { time: "00:03:00" }',
        '',
      ].join('\n'),
    );
    const ready = await until('the service to be Ready with its job’s end', async () => {
      const s = await get(c, 'services', 'vllm');
      if (s.status?.phase === 'Failed') throw new Error(JSON.stringify(s.status));
      return s.status?.phase === 'Ready' && s.status.endsAt ? s : undefined;
    }, 120_000, 500);
    const firstEnd = Date.parse(ready.status.endsAt);
    // SLURM's EndTime of a 3-minute job, seen from here: at most 3 minutes away.
    expect(firstEnd - Date.now()).toBeLessThanOrEqual(3 * 60_000);
    expect(firstEnd - Date.now()).toBeGreaterThan(60_000);

    // Needs 2m + the 2m margin: more than any 3-minute job has. Nothing is started for it.
    writeFileSync(join(ws.resources, 'long.yaml'), benchmark('long', '2m'));
    const long = await until('the too-long benchmark to fail', async () => {
      const b = await get(c, 'benchmarks', 'long');
      return ['Failed', 'Running', 'Succeeded'].includes(b.status?.phase) ? b : undefined;
    }, 60_000, 300);
    expect(long.status.phase).toBe('Failed');
    expect(long.status.message).toBe(
      'ServiceTimeTooShort: the run needs 4m of service vllm (duration 2m + margin 2m), more than its whole time limit, spec.slurm.time "00:03:00" (3m); ' +
        `set the Service's spec.slurm.time to at least "00:04:00" plus the time the service takes to become Ready, or shorten the run`,
    );
    expect(allJobs().filter((j) => j.comment.includes(long.metadata.uid))).toEqual([]);

    // The service's job now ends 2 minutes after it started, as a short job would.
    const jobId = ready.status.jobs.find((j: { role: string }) => j.role === 'service').jobId as string;
    execFileSync('scontrol', ['update', `JobId=${jobId}`, 'TimeLimit=2']);
    await until('the service’s status to carry the earlier end', async () => {
      const s = await get(c, 'services', 'vllm');
      return s.status?.endsAt && Date.parse(s.status.endsAt) < firstEnd ? true : undefined;
    }, 30_000, 300);

    // Needs 10s + 2m margin: more than this job has left, less than a fresh one has.
    writeFileSync(join(ws.resources, 'short.yaml'), benchmark('short', '10s'));
    const done = await until('the benchmark to end', async () => {
      const b = await get(c, 'benchmarks', 'short');
      return ['Succeeded', 'Failed'].includes(b.status?.phase) ? b : undefined;
    }, 180_000, 500);
    expect(done.status.phase, JSON.stringify(done.status)).toBe('Succeeded');
    expect(done.status.attempts).toBe(1);
    const reasons = done.events.map((e: { reason: string }) => e.reason);
    expect(reasons).toContain('RenewingService');
    expect(reasons).not.toContain('Interrupted');

    const svc = await get(c, 'services', 'vllm');
    // retries.max 0: attempt 2 came from the renewal, which uses up no retry.
    expect(svc.status).toMatchObject({ phase: 'Ready', attempts: 2 });
    expect(Date.parse(svc.status.endsAt)).toBeGreaterThan(firstEnd - 60_000);
    expect(svc.events.map((e: { reason: string }) => e.reason)).toContain('Renewing');
    // Two jobs for the service: the first cancelled by the renewal, before its time limit could end it.
    const jobs = allJobs().filter((j) => j.comment.includes(svc.metadata.uid) && j.name === 'aifb-service-vllm');
    expect(jobs).toHaveLength(2);
    expect(jobs.find((j) => j.jobId === jobId)!.state).toBe('CANCELLED');
  });
});
