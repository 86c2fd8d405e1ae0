// The SLURM executor's view of jobs slurmctld has forgotten, against stand-in
// SLURM binaries (real processes on PATH, printing what SLURM 22.05 prints):
// their end comes from sacct, and where the cluster keeps no accounting they
// are declared gone after the vanish window, as before.
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SlurmExecutor } from '../../../controller/executor/slurm-executor.js';
import type { LaunchSpec } from '../../../controller/executor/types.js';
import { silentLogger } from '../../../controller/runtime/logger.js';
import { Slurm } from '../../../slurm/commands.js';
import { encodeJobComment } from '../../../slurm/job-comment.js';

const root = mkdtempSync(join(tmpdir(), 'aifb-slurm-executor-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const U = '\x1f';
let n = 0;

/**
 * A fresh folder of stand-ins: an empty queue, an scontrol that knows no job,
 * sbatch handing out 101, 102, ...; sacct runs `sacct`. `later(window)`
 * makes one more executor on the same state folder (a restarted controller).
 */
function cluster(sacct: string): { executor: SlurmExecutor; later: (vanishWindowMs: number) => SlurmExecutor; argvs: string[][]; dir: string } {
  const dir = join(root, `c${++n}`);
  const bin = join(dir, 'bin');
  const fake = (name: string, body: string) => {
    writeFileSync(join(bin, name), `#!/bin/bash\n${body}\n`);
    chmodSync(join(bin, name), 0o755);
  };
  mkdirSync(bin, { recursive: true });
  fake('squeue', 'exit 0');
  fake('scontrol', 'echo "slurm_load_jobs error: Invalid job id specified" >&2; exit 1');
  fake('sbatch', `f=${dir}/next; i=$(cat $f 2>/dev/null || echo 101); echo $((i + 1)) > $f; echo $i`);
  fake('sacct', sacct);
  const argvs: string[][] = [];
  const slurm = new Slurm({ env: { PATH: `${bin}:${process.env.PATH}` }, onCommand: (a) => argvs.push(a) });
  const later = (vanishWindowMs: number) => new SlurmExecutor({ stateDir: join(dir, 'state'), slurm, log: silentLogger, pollMs: 1, vanishWindowMs });
  return { executor: later(3_600_000), later, argvs, dir };
}

const spec = (dir: string, name: string): LaunchSpec => ({ kind: 'Benchmark', name, uid: 'u1', generation: 1, attempt: 1, role: 'runner', command: ['true'], dir: join(dir, name) });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('SlurmExecutor: jobs slurmctld has forgotten', () => {
  it('takes their recorded end from one sacct call for all of them', async () => {
    const comment = (name: string) => encodeJobComment({ kind: 'Benchmark', name, uid: 'u1', generation: 1, attempt: 1, role: 'runner' });
    const lines = [
      ['101', 'aifb-benchmark-a', 'FAILED', '3:0', 'vm', '2026-12-05T09:01:10', '2026-12-05T09:01:11', '2026-12-05T09:01:12', comment('a')],
      ['102', 'aifb-benchmark-b', 'COMPLETED', '0:0', 'vm', '2026-12-05T09:01:10', '2026-12-05T09:01:11', '2026-12-05T09:01:12', comment('b')],
      // Job id 103 given out again: accounting's record is another launch's job.
      ['103', 'aifb-benchmark-zz', 'COMPLETED', '0:0', 'vm', '2026-12-05T09:01:10', '2026-12-05T09:01:11', '2026-12-05T09:01:12', comment('zz')],
    ];
    const { executor, later, argvs, dir } = cluster(`printf '%s\\n' ${lines.map((l) => `'${l.join(U)}'`).join(' ')}`);
    const [a, b, c] = [await executor.launch(spec(dir, 'a')), await executor.launch(spec(dir, 'b')), await executor.launch(spec(dir, 'c'))];
    // A controller started after the jobs were forgotten (a listing begun in the launch's millisecond skips it).
    await sleep(5);
    const restarted = later(3_600_000);
    argvs.length = 0;
    expect(await restarted.state(a)).toEqual({ state: 'exited', exitCode: 3, retryable: true, reason: 'FAILED: exit code 3' });
    expect(await restarted.state(b)).toEqual({ state: 'exited', exitCode: 0, retryable: false });
    expect(await restarted.state(c)).toEqual({ state: 'pending', reason: 'NotYetListed' });
    const sacct = argvs.filter((x) => x[0] === 'sacct');
    expect(sacct[0].at(-1)).toBe('101,102,103');
    // Ends found are kept: later refreshes ask sacct only about the job still missing.
    expect(sacct.slice(1).every((x) => x.at(-1) === '103')).toBe(true);
    // Missing for longer than the window of a controller started later: gone.
    await sleep(5);
    expect(await later(1).state(c)).toMatchObject({ state: 'exited', reason: 'job 103 is unknown to SLURM (purged before its end was seen)', retryable: true });
  });

  it('where the cluster keeps no accounting, asks sacct once and declares a forgotten job gone after the vanish window', async () => {
    const { executor, later, argvs, dir } = cluster('echo "Slurm accounting storage is disabled" >&2; exit 1');
    const a = await executor.launch(spec(dir, 'a'));
    await sleep(5);
    expect(await executor.state(a)).toEqual({ state: 'pending', reason: 'NotYetListed' });
    expect(await executor.state(a)).toEqual({ state: 'pending', reason: 'NotYetListed' });
    await sleep(5);
    expect(await later(1).state(a)).toMatchObject({ state: 'exited', exitCode: null, retryable: true, reason: expect.stringMatching(/unknown to SLURM/) });
    expect(argvs.filter((x) => x[0] === 'sacct')).toHaveLength(1);
    expect(argvs.filter((x) => x[0] === 'scontrol').length).toBeGreaterThanOrEqual(2);
  });

  it('a failing sacct leaves the job missing, not failed, until it answers', async () => {
    const { executor, dir } = cluster('echo "sacct: error: Problem talking to the database: Connection refused" >&2; exit 1');
    const a = await executor.launch(spec(dir, 'a'));
    await sleep(5);
    expect(await executor.state(a)).toEqual({ state: 'pending', reason: 'NotYetListed' });
  });
});
