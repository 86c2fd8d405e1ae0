// slurm/controller.sbatch for real: the controller as a SLURM job publishes its
// API for aifbctl, and near its time limit (USR1) hands over to a successor job
// that adopts the running benchmark.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aifbctl, api, ROOT, until, workspace } from '../e2e/harness.js';
import { allJobs, cancelAifbJobs, envWithFakes, requireSlurm } from './slurm-harness.js';

const submitted: string[] = [];
beforeAll(() => requireSlurm());
afterAll(() => {
  for (const id of submitted) execFileSync('scancel', [id]);
  for (const j of allJobs()) if (j.name === 'aifb-controller' && ['PENDING', 'RUNNING'].includes(j.state)) execFileSync('scancel', [j.jobId]);
  cancelAifbJobs();
});

describe('slurm/controller.sbatch', { timeout: 240_000 }, () => {
  it('runs the controller as a job and hands over to a successor before the time limit', async () => {
    const ws = workspace();
    const env = [
      'ALL',
      `AIFB_HOME=${ROOT}`,
      `AIFB_RESOURCES=${ws.resources}`,
      `AIFB_STATE=${ws.state}`,
      'AIFB_PORT=0',
      `PATH=${envWithFakes().PATH}`,
    ].join(',');
    const first = execFileSync('sbatch', ['--parsable', '--time=10', `--export=${env}`, `--output=${join(ws.dir, 'controller-%j.log')}`, join(ROOT, 'slurm/controller.sbatch')], {
      encoding: 'utf8',
    }).trim();
    submitted.push(first);
    const controllerFile = join(ws.state, 'controller.json');
    const published = () => (existsSync(controllerFile) ? (JSON.parse(readFileSync(controllerFile, 'utf8')) as { url: string; jobId?: string }) : undefined);
    const one = await until('the controller job to publish its API', () => (published()?.jobId === first ? published() : undefined), 90_000);
    expect((await api(one.url, '/healthz')).status).toBe(200);
    // Bound to 0.0.0.0 on its node: protected by default, the token owner-only in the state folder.
    expect((await api(one.url, '/api/v1/benchmarks')).status).toBe(401);
    const token = readFileSync(join(ws.state, 'api-token'), 'utf8').trim();
    expect(statSync(join(ws.state, 'api-token')).mode & 0o777).toBe(0o600);

    writeFileSync(
      join(ws.resources, 'handover.yaml'),
      'apiVersion: aifb.io/v1alpha1\nkind: Benchmark\nmetadata:\n  name: handover\nspec:\n  workload: { type: file-storage, basePath: /tmp/aifb-handover }\n  load: { workers: 2, duration: 12s }\n',
    );
    await until('Running', async () => ((await api(one.url, '/api/v1/benchmarks/handover', token)).body.status?.phase === 'Running' ? true : undefined), 90_000);
    // aifbctl on a "login node" finds the job's API through the state folder.
    const get = await aifbctl(ws, ['get', 'benchmarks']);
    expect(get.stdout).toMatch(/handover\s+file-storage\s+Running/);

    // What SLURM sends before the time limit, sent now.
    execFileSync('scancel', ['--signal=USR1', '--batch', first]);
    const two = await until('the successor to publish its API', () => {
      const p = published();
      return p?.jobId && p.jobId !== first ? p : undefined;
    }, 120_000);
    submitted.push(two.jobId!);
    expect(allJobs().find((j) => j.jobId === first)?.state).toMatch(/COMPLETED|COMPLETING/);
    const done = await until('Succeeded under the successor', async () => {
      const { body } = await api(two.url, '/api/v1/benchmarks/handover', token);
      if (body.status?.phase === 'Failed') throw new Error(JSON.stringify(body.status));
      return body.status?.phase === 'Succeeded' ? body : undefined;
    }, 120_000);
    expect(done.status.attempts).toBe(1);
    expect(readdirSync(join(ws.state, 'runs', 'handover'))).toEqual(['handover-g1-a1']);
    // Jobs of earlier runs of this test may still be listed: count this resource's only (by uid).
    expect(allJobs().filter((j) => j.name === 'aifb-benchmark-handover' && j.comment.includes(done.metadata.uid))).toHaveLength(1);
    expect(readFileSync(join(ws.dir, `controller-${first}.log`), 'utf8')).toMatch(/handed over; exiting/);
  });
});
