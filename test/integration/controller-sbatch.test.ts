// slurm/controller.sbatch for real: the controller as a SLURM job publishes its
// API for aifbctl, and near its time limit (USR1) hands over to a successor job
// that adopts the running benchmark, submitted with the first job's account,
// partition and time limit (on a cluster that enforces accounts, as
// scripts/slurm-up.sh's does); a refused hand-off is logged and the controller stays.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aifbctl, api, ROOT, until, workspace, type Workspace } from '../e2e/harness.js';
import { allJobs, cancelAifbJobs, envWithFakes, requireSlurm, TEST_ACCOUNT } from './slurm-harness.js';

const submitted: string[] = [];
/** A real account (the cluster refuses any other) and a partition that is not the default, where a successor without --partition would not land. */
const ACCOUNT = TEST_ACCOUNT;
const PARTITION = 'cpu';
beforeAll(() => requireSlurm());
afterAll(() => {
  for (const id of submitted) execFileSync('scancel', [id]);
  for (const j of allJobs()) if (j.name === 'aifb-controller' && ['PENDING', 'RUNNING'].includes(j.state)) execFileSync('scancel', [j.jobId]);
  cancelAifbJobs();
});

/** The fields of `scontrol show job` the successor must keep. */
function submittedWith(jobId: string): Record<string, string | undefined> {
  const line = execFileSync('scontrol', ['show', 'job', '-o', jobId], { encoding: 'utf8' });
  const field = (key: string) => new RegExp(`(?:^|\\s)${key}=(\\S*)`).exec(line)?.[1];
  return { Account: field('Account'), Partition: field('Partition'), QOS: field('QOS'), TimeLimit: field('TimeLimit') };
}

/** Submits slurm/controller.sbatch with `opts` for a workspace and waits for its API; `path` goes first on the job's PATH. */
async function submitController(ws: Workspace, opts: string[], path = envWithFakes().PATH) {
  const env = [
    'ALL',
    `AIFB_HOME=${ROOT}`,
    `AIFB_RESOURCES=${ws.resources}`,
    `AIFB_STATE=${ws.state}`,
    'AIFB_PORT=0',
    // The SLURM default (30s) is for real sites; the test observes every second.
    'AIFB_POLL=1s',
    `PATH=${path}`,
  ].join(',');
  const first = execFileSync('sbatch', ['--parsable', ...opts, `--export=${env}`, `--output=${join(ws.dir, 'controller-%j.log')}`, join(ROOT, 'slurm/controller.sbatch')], {
    encoding: 'utf8',
  }).trim();
  submitted.push(first);
  const controllerFile = join(ws.state, 'controller.json');
  const published = () => (existsSync(controllerFile) ? (JSON.parse(readFileSync(controllerFile, 'utf8')) as { url: string; jobId?: string }) : undefined);
  const one = await until('the controller job to publish its API', () => (published()?.jobId === first ? published() : undefined), 90_000);
  return { first, one, published };
}

describe('slurm/controller.sbatch', { timeout: 240_000 }, () => {
  it('runs the controller as a job and hands over to a successor with the same account, partition and time limit', async () => {
    const ws = workspace();
    const { first, one, published } = await submitController(ws, [`--account=${ACCOUNT}`, `--partition=${PARTITION}`, '--time=00:10:00']);
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
    expect(submittedWith(first)).toMatchObject({ Account: ACCOUNT, Partition: PARTITION, TimeLimit: '00:10:00' });
    expect(submittedWith(two.jobId!)).toEqual(submittedWith(first));
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

  it('logs a refused hand-off and keeps the controller running until the time limit', async () => {
    const ws = workspace();
    // An sbatch that refuses, as a site does for a job without an account, first on the job's PATH.
    const refusing = join(ws.dir, 'refusing-bin');
    mkdirSync(refusing);
    writeFileSync(join(refusing, 'sbatch'), '#!/bin/sh\necho "sbatch: error: Batch job submission failed: Invalid account or account/partition combination specified" >&2\nexit 1\n');
    chmodSync(join(refusing, 'sbatch'), 0o755);
    const { first, one } = await submitController(ws, ['--time=10'], `${refusing}:${envWithFakes().PATH}`);

    execFileSync('scancel', ['--signal=USR1', '--batch', first]);
    const log = join(ws.dir, `controller-${first}.log`);
    const text = await until('the refusal in the job log', () => {
      const t = existsSync(log) ? readFileSync(log, 'utf8') : '';
      return /ERROR: the controller keeps running/.test(t) ? t : undefined;
    }, 60_000);
    expect(text).toMatch(/ERROR: the successor of job \d+ was refused: sbatch: error: Batch job submission failed: Invalid account/);
    expect(text).not.toMatch(/handed over; exiting/);
    // Still there a while later: the job runs and its API answers.
    await new Promise((r) => setTimeout(r, 5_000));
    expect(allJobs().find((j) => j.jobId === first)?.state).toBe('RUNNING');
    expect((await api(one.url, '/healthz')).status).toBe(200);
    execFileSync('scancel', [first]);
  });
});
