// Against the real single-node cluster of scripts/slurm-up.sh: submit, watch,
// fail, cancel, GPUs, NODE_FAIL and an unreachable slurmctld.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { SlurmSpec } from '../../../api/schemas.js';
import { Slurm, SlurmUnavailable, type SlurmJob } from '../../../slurm/commands.js';
import { decodeJobComment, encodeJobComment, jobName } from '../../../slurm/job-comment.js';
import { shellQuote } from '../../../slurm/quote.js';
import { renderJobScript } from '../../../slurm/script.js';
import { classify } from '../../../slurm/states.js';

const SCRIPTS = resolve(import.meta.dirname, '../../../scripts');
const dir = mkdtempSync(join(tmpdir(), 'aifb-slurm-it-'));
const submitted: string[] = [];
let node = '';
let seq = 0;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, fn: () => Promise<T | undefined | false>, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(250);
  }
}

/** Renders, writes and submits a job whose body is `lines`; returns its id. */
async function submit(slurm: Slurm, lines: string[], opts: { gpus?: number; slurm?: SlurmSpec; env?: Record<string, string> } = {}): Promise<string> {
  const n = ++seq;
  const name = `it-${process.pid}-${n}`;
  const script = renderJobScript({
    jobName: jobName('Benchmark', name),
    comment: encodeJobComment({ kind: 'Benchmark', name, uid: `uid-${process.pid}`, generation: 1, attempt: n, role: 'runner' }),
    slurm: { time: '5', ...opts.slurm },
    gpus: opts.gpus,
    output: join(dir, `job-${n}.out`),
    error: join(dir, `job-${n}.err`),
    workdir: dir,
    env: opts.env,
    lines,
  });
  const file = join(dir, `job-${n}.sh`);
  writeFileSync(file, script);
  const id = await slurm.submit(file);
  submitted.push(id);
  return id;
}

// Waits for a file the test creates, so "pending or running" is certain when asserted.
const waitForGo = (go: string) => `for _ in $(seq 300); do [ -e ${shellQuote(go)} ] && break; sleep 0.1; done`;

const finished = (slurm: Slurm, id: string) =>
  until(`job ${id} to finish`, async () => {
    const j = await slurm.show(id);
    return j && classify(j).phase === 'exited' ? j : undefined;
  });

beforeAll(() => {
  const r = spawnSync('sinfo', ['-h', '-N', '-o', '%N %T'], { encoding: 'utf8', timeout: 30_000 });
  if (r.error || r.status !== 0 || !r.stdout.trim()) {
    throw new Error(`SLURM does not answer (sinfo: ${r.error?.message ?? r.stderr.trim()}): run scripts/slurm-up.sh first`);
  }
  node = r.stdout.trim().split(/\s+/)[0];
});

afterEach(async () => {
  const slurm = new Slurm();
  for (const id of submitted.splice(0)) await slurm.cancel(id).catch(() => undefined);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('SLURM adapter against the test cluster', () => {
  it('a job that writes a file is pending or running in queue(), then COMPLETED in show()', async () => {
    const slurm = new Slurm();
    const go = join(dir, 'go-1');
    const out = join(dir, 'written-1');
    const id = await submit(slurm, [waitForGo(go), `echo done > ${shellQuote(out)}`]);

    const listed = (await slurm.queue()).find((j) => j.jobId === id) as SlurmJob;
    expect(listed).toBeDefined();
    expect(['PENDING', 'RUNNING']).toContain(listed.state);
    expect(listed.name).toMatch(/^aifb-benchmark-it-/);
    expect(decodeJobComment(listed.comment)).toMatchObject({ kind: 'Benchmark', role: 'runner', generation: 1 });

    writeFileSync(go, '');
    const job = await finished(slurm, id);
    expect(job.state).toBe('COMPLETED');
    expect(classify(job)).toMatchObject({ phase: 'exited', exitCode: 0, retryable: false, nodes: node });
    expect(readFileSync(out, 'utf8')).toBe('done\n');
    expect(decodeJobComment(job.comment)?.name).toBe(listed.name.replace('aifb-benchmark-', ''));
  });

  it("a job's environment holds none of the SLURM_* variables of the job the controller runs in", async () => {
    // What a controller running as a job of its own has in its environment.
    const leaked = { SLURM_MEM_PER_NODE: '1234', SLURM_CPUS_PER_TASK: '7', SLURM_AIFB_LEAK_MARKER: 'yes' };
    Object.assign(process.env, leaked);
    try {
      const slurm = new Slurm();
      const out = join(dir, 'job-env');
      const id = await submit(slurm, [`env > ${shellQuote(out)}`]);
      expect((await finished(slurm, id)).state).toBe('COMPLETED');
      const env = readFileSync(out, 'utf8');
      expect(env).toMatch(new RegExp(`^SLURM_JOB_ID=${id}$`, 'm'));
      expect(env).not.toMatch(/^SLURM_AIFB_LEAK_MARKER=/m);
      expect(env).not.toMatch(/^SLURM_MEM_PER_NODE=1234$/m);
      expect(env).not.toMatch(/^SLURM_CPUS_PER_TASK=7$/m);
    } finally {
      for (const k of Object.keys(leaked)) delete process.env[k];
    }
  });

  it('a job exiting 3 is FAILED with exit code 3, retryable', async () => {
    const slurm = new Slurm();
    const id = await submit(slurm, ['exit 3']);
    const job = await finished(slurm, id);
    expect(job).toMatchObject({ state: 'FAILED', exitCode: 3 });
    expect(classify(job)).toMatchObject({ phase: 'exited', exitCode: 3, retryable: true });
    // squeue reports the same end (raw wait status decoded).
    expect((await slurm.queue()).find((j) => j.jobId === id)).toMatchObject({ state: 'FAILED', exitCode: 3 });
  });

  it('scancel makes it CANCELLED, not retried', async () => {
    const slurm = new Slurm();
    const id = await submit(slurm, ['sleep 60']);
    await until('job to run', async () => (await slurm.show(id))?.state === 'RUNNING');
    await slurm.cancel(id);
    const job = await finished(slurm, id);
    expect(job.state).toBe('CANCELLED');
    expect(classify(job)).toMatchObject({ phase: 'exited', retryable: false, reason: 'CANCELLED: cancelled from outside aifb (scancel)' });
    await slurm.cancel(id); // already gone: no error
  });

  it('a --gres=gpu:1 job schedules and sees its GPU', async () => {
    const slurm = new Slurm();
    const out = join(dir, 'gpu-env');
    const id = await submit(slurm, [`echo "\${CUDA_VISIBLE_DEVICES:-}|\${SLURM_JOB_GPUS:-}" > ${shellQuote(out)}`], { gpus: 1 });
    const job = await finished(slurm, id);
    expect(job.state).toBe('COMPLETED');
    const [cuda, gpus] = readFileSync(out, 'utf8').trim().split('|');
    expect(cuda || gpus).toMatch(/^[01]$/);
  });

  it('user values stay inert when SLURM runs the script', async () => {
    const slurm = new Slurm();
    const marker = join(dir, 'pwned');
    const payload = `$(touch ${marker}) \`touch ${marker}\` '; touch ${marker}; "x" | & * \n done`;
    const out = join(dir, 'inert');
    const id = await submit(slurm, [`printf '%s' "$PAYLOAD" ${shellQuote(payload)} > ${shellQuote(out)}`], {
      env: { PAYLOAD: payload },
      slurm: { extraDirectives: [`--mail-user=${payload.replace('\n', ' ')}`] },
    });
    const job = await finished(slurm, id);
    expect(job.state).toBe('COMPLETED');
    expect(readFileSync(out, 'utf8')).toBe(payload + payload);
    expect(existsSync(marker)).toBe(false);
  });

  it('queue() makes exactly one squeue call', async () => {
    const argvs: string[][] = [];
    const slurm = new Slurm({ onCommand: (a) => argvs.push(a) });
    await submit(slurm, ['sleep 5']);
    await submit(slurm, ['sleep 5']);
    argvs.length = 0;
    const jobs = await slurm.queue();
    expect(jobs.length).toBeGreaterThanOrEqual(2);
    expect(argvs.map((a) => a[0])).toEqual(['squeue']);
    expect(argvs[0]).toContain('--me');
  });

  it('a node going down turns its running job into NODE_FAIL, retryable', async () => {
    const slurm = new Slurm();
    const id = await submit(slurm, ['sleep 60']);
    await until('job to run', async () => (await slurm.show(id))?.state === 'RUNNING');
    try {
      execFileSync('scontrol', ['update', `nodename=${node}`, 'state=down', 'reason=aifb-integration-test']);
      const job = await finished(slurm, id);
      expect(job.state).toBe('NODE_FAIL');
      const c = classify(job);
      expect(c).toMatchObject({ phase: 'exited', retryable: true });
      expect(c.reason).toContain(`NODE_FAIL: a node of the job failed (${node})`);
    } finally {
      spawnSync('scontrol', ['update', `nodename=${node}`, 'state=resume']);
      await until('node to be usable again', async () => /^(idle|mixed|allocated)/.test(execFileSync('sinfo', ['-h', '-N', '-n', node, '-o', '%T'], { encoding: 'utf8' })));
    }
  });

  it(
    'with slurmctld stopped, calls fail with SlurmUnavailable; after a restart it still knows earlier jobs',
    async () => {
      const slurm = new Slurm({ timeoutMs: 30_000 });
      const id = await submit(slurm, ['exit 0']);
      await finished(slurm, id);
      execFileSync(join(SCRIPTS, 'slurm-down.sh'), ['--ctld-only'], { stdio: 'ignore' });
      try {
        const err = await slurm.queue().catch((e: unknown) => e);
        expect(err).toBeInstanceOf(SlurmUnavailable);
        expect((err as Error).message).toMatch(/slurmctld/);
        await expect(slurm.show(id)).rejects.toBeInstanceOf(SlurmUnavailable);
      } finally {
        execFileSync(join(SCRIPTS, 'slurm-up.sh'), ['--ctld-only'], { stdio: 'ignore' });
      }
      expect((await slurm.show(id))?.state).toBe('COMPLETED');
    },
    120_000,
  );
});
