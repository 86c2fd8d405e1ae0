// The SLURM executor against the strict test cluster of scripts/slurm-up.sh
// (accounting through slurmdbd, associations enforced, MinJobAge 60 s): the end
// of a job slurmctld has purged comes from sacct; an account the user may not
// use fails at once; maxJobsInFlight holds launches back until a job ends.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { SlurmSpec } from '../../../api/schemas.js';
import { SlurmExecutor } from '../../../controller/executor/slurm-executor.js';
import type { LaunchSpec, LaunchState, Launched } from '../../../controller/executor/types.js';
import { silentLogger } from '../../../controller/runtime/logger.js';
import { Slurm } from '../../../slurm/commands.js';
import { decodeJobComment } from '../../../slurm/job-comment.js';
import { shellQuote } from '../../../slurm/quote.js';
import { requireSlurm, TEST_ACCOUNT } from '../slurm-harness.js';

const dir = mkdtempSync(join(tmpdir(), 'aifb-slurm-executor-it-'));
const uid = `uid-${process.pid}`;
const submitted: string[] = [];
let seq = 0;

beforeAll(() => requireSlurm());
afterEach(() => {
  for (const id of submitted.splice(0)) spawnSync('scancel', [id]);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, ms: number): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms / 1000} s waiting for ${what}`);
    await sleep(500);
  }
}

function executorIn(stateDir: string, opts: { maxJobsInFlight?: number; argvs?: string[][] } = {}): SlurmExecutor {
  const slurm = new Slurm({ onCommand: (a) => opts.argvs?.push(a) });
  return new SlurmExecutor({ stateDir, slurm, log: silentLogger, pollMs: 500, maxJobsInFlight: opts.maxJobsInFlight });
}

/** A runner launch whose job runs `line` in a shell. */
function spec(line: string, opts: { slurm?: SlurmSpec; role?: 'runner' | 'service' } = {}): LaunchSpec {
  const n = ++seq;
  return {
    kind: opts.role === 'service' ? 'Service' : 'Benchmark',
    name: `exec-it-${process.pid}-${n}`,
    uid,
    generation: 1,
    attempt: 1,
    role: opts.role ?? 'runner',
    command: ['bash', '-c', line],
    dir: join(dir, `launch-${n}`),
    slurm: { time: '5', ...opts.slurm },
  };
}

async function launch(executor: SlurmExecutor, s: LaunchSpec): Promise<Launched> {
  const launched = await executor.launch(s);
  if (launched.jobId) submitted.push(launched.jobId);
  return launched;
}

const known = (jobId: string) => spawnSync('scontrol', ['show', 'job', jobId], { encoding: 'utf8' }).status === 0;
const waitForGo = (go: string) => `for _ in $(seq 600); do [ -e ${shellQuote(go)} ] && break; sleep 0.1; done`;

describe('SlurmExecutor on the strict test cluster', () => {
  it(
    'reports the real end of jobs slurmctld has purged, from one sacct call for all of them',
    async () => {
      const stateDir = join(dir, 'purged');
      const first = executorIn(stateDir);
      const failed = await launch(first, spec('exit 3'));
      const completed = await launch(first, spec('exit 0'));
      // The controller that launched them is gone before they end (a restart, a long outage).
      await until('both jobs to leave slurmctld (MinJobAge, then its purge)', () => !known(failed.jobId!) && !known(completed.jobId!), 200_000);

      const argvs: string[][] = [];
      const second = executorIn(stateDir, { argvs });
      const [a, b] = await second.list().then((l) => [l.find((x) => x.id === failed.id)!, l.find((x) => x.id === completed.id)!]);
      expect(await second.state(a)).toMatchObject({ state: 'exited', exitCode: 3, retryable: true, reason: 'FAILED: exit code 3' });
      expect(await second.state(b)).toEqual({ state: 'exited', exitCode: 0, retryable: false });
      const sacct = argvs.filter((x) => x[0] === 'sacct');
      expect(sacct).toHaveLength(1);
      expect(sacct[0].at(-1)!.split(',').sort()).toEqual([failed.jobId, completed.jobId].sort());
      // Found, so not counted as missing: a later state needs no SLURM command.
      argvs.length = 0;
      expect(await second.state(a)).toMatchObject({ state: 'exited', exitCode: 3 });
      expect(argvs.filter((x) => x[0] !== 'squeue')).toEqual([]);
      // AccountingStoreFlags=job_comment: the record names the launch.
      const [record] = (await new Slurm().accounting([failed.jobId!]))!;
      expect(decodeJobComment(record.comment)).toMatchObject({ name: a.ref.name, uid, role: 'runner' });
    },
    260_000,
  );

  it('fails a launch whose account the user may not use at once, naming the field and the fix, submitting nothing', async () => {
    const executor = executorIn(join(dir, 'account'));
    for (const [role, field] of [
      ['runner', 'spec.runner.slurm.account'],
      ['service', 'spec.slurm.account'],
    ] as const) {
      const launched = await launch(executor, spec('exit 0', { role, slurm: { account: 'aifb-no-such-account' } }));
      expect(launched.jobId).toBe('');
      const state = (await executor.state(launched)) as Extract<LaunchState, { state: 'exited' }>;
      expect(state).toMatchObject({ state: 'exited', exitCode: null, retryable: false });
      expect(state.reason).toContain('Invalid account or account/partition combination specified');
      expect(state.reason).toContain(`${field} names an account that does not exist`);
      expect(state.reason).toContain('sacctmgr show assoc user=$USER');
    }
    // The project account root is a user of is accepted.
    const ok = await launch(executor, spec('exit 0', { slurm: { account: TEST_ACCOUNT } }));
    expect(ok.jobId).toMatch(/^\d+$/);
  });

  it(
    'holds launches beyond maxJobsInFlight back, pending, and submits them in order as jobs end',
    async () => {
      const executor = executorIn(join(dir, 'capped'), { maxJobsInFlight: 2 });
      const go = [0, 1, 2, 3].map((i) => join(dir, `capped-go-${i}`));
      const launched: Launched[] = [];
      for (const g of go) launched.push(await launch(executor, spec(`${waitForGo(g)}; exit 0`)));
      const [a, b, c, d] = launched;
      expect([a.jobId, b.jobId].every((id) => /^\d+$/.test(id!))).toBe(true);
      expect([c.jobId, d.jobId]).toEqual(['', '']);
      const cState = (await executor.state(c)) as Extract<LaunchState, { state: 'pending' }>;
      expect(cState.state).toBe('pending');
      expect(cState.reason).toMatch(/^MaxJobsInFlight: 2 of this controller's jobs are in flight and at most 2 may be/);
      expect(((await executor.state(d)) as { reason: string }).reason).toMatch(/^MaxJobsInFlight: .*1 held-back launch ahead of it/);

      // The first job ends: one slot, and the launch waiting longest (c) takes it.
      writeFileSync(go[0], '');
      const cJob = await until(
        'c to be submitted',
        async () => {
          await executor.state(d);
          await executor.state(c);
          return (await executor.list()).find((l) => l.id === c.id)?.jobId;
        },
        60_000,
      );
      submitted.push(cJob);
      expect((await executor.list()).find((l) => l.id === d.id)?.jobId).toBe('');
      expect(((await executor.state(d)) as { reason: string }).reason).toMatch(/^MaxJobsInFlight: 2 of this controller's jobs are in flight/);
      for (const g of go.slice(1)) writeFileSync(g, '');
      const dJob = await until('d to be submitted once b and c end', async () => {
        await executor.state(d);
        return (await executor.list()).find((l) => l.id === d.id)?.jobId;
      }, 90_000);
      submitted.push(dJob);
      // The same launch all along: no attempt was used up.
      expect((await executor.list()).filter((l) => l.ref.name === d.ref.name)).toHaveLength(1);
      execFileSync('scancel', [dJob]);
    },
    200_000,
  );
});
