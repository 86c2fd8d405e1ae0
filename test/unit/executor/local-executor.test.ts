import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LocalExecutor } from '../../../controller/executor/local-executor.js';
import type { LaunchSpec } from '../../../controller/executor/types.js';

const waitFor = async (check: () => Promise<boolean>, ms = 5000) => {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('condition not met in time');
};

function spec(dir: string, command: string[], attempt = 1): LaunchSpec {
  return { kind: 'Benchmark', name: 'b', uid: 'u1', generation: 1, attempt, role: 'runner', command, dir: join(dir, `run-${attempt}`) };
}

describe('LocalExecutor', () => {
  it('launches once per ref, even when asked twice or by a new instance after a restart', async () => {
    const state = mkdtempSync(join(tmpdir(), 'aifb-exec-'));
    const ex = new LocalExecutor(state);
    const a = await ex.launch(spec(state, ['sleep', '30']));
    const b = await ex.launch(spec(state, ['sleep', '30']));
    expect(b.pids).toEqual(a.pids);
    const restarted = new LocalExecutor(state);
    const found = await restarted.find(a.ref);
    expect(found?.pids).toEqual(a.pids);
    expect(await restarted.state(found!)).toMatchObject({ state: 'running' });
    expect((await restarted.list()).map((l) => l.id)).toEqual([a.id]);
    await restarted.stop(found!, 2000);
    expect(await restarted.state(found!)).toMatchObject({ state: 'exited' });
  });

  it('reports the exit code and keeps stdout in the launch folder', async () => {
    const state = mkdtempSync(join(tmpdir(), 'aifb-exec-'));
    const ex = new LocalExecutor(state);
    const l = await ex.launch(spec(state, ['sh', '-c', 'echo hello; exit 3']));
    await waitFor(async () => (await ex.state(l)).state === 'exited');
    await waitFor(async () => {
      const s = await ex.state(l);
      return s.state === 'exited' && s.exitCode !== null;
    });
    expect(await ex.state(l)).toEqual({ state: 'exited', exitCode: 3 });
    expect(readFileSync(join(l.dir, 'runner.stdout.log'), 'utf8')).toBe('hello\n');
  });

  it('stops a process that ignores SIGTERM with SIGKILL after the grace period', async () => {
    const state = mkdtempSync(join(tmpdir(), 'aifb-exec-'));
    const ex = new LocalExecutor(state);
    const l = await ex.launch(spec(state, ['sh', '-c', 'trap "" TERM; while true; do sleep 0.1; done']));
    await new Promise((r) => setTimeout(r, 100));
    await ex.stop(l, 300);
    expect((await ex.state(l)).state).toBe('exited');
    await ex.forget(l);
    expect(await ex.find(l.ref)).toBeUndefined();
  });

  it('runs one process per rank, each with --rank', async () => {
    const state = mkdtempSync(join(tmpdir(), 'aifb-exec-'));
    const ex = new LocalExecutor(state);
    const l = await ex.launch({ ...spec(state, ['echo']), tasksPerNode: 2 });
    expect(l.pids).toHaveLength(2);
    await waitFor(async () => {
      const s = await ex.state(l);
      return s.state === 'exited' && s.exitCode === 0;
    });
    expect(readFileSync(join(l.dir, 'runner.1.stdout.log'), 'utf8')).toBe('--rank 1\n');
  });

  it('resolves secrets by reference into the process environment only, never into its record', async () => {
    const state = mkdtempSync(join(tmpdir(), 'aifb-exec-'));
    const file = join(state, 'pw');
    writeFileSync(file, 'from-the-file\n', { mode: 0o600 });
    const ex = new LocalExecutor(state);
    const l = await ex.launch({ ...spec(state, ['sh', '-c', 'echo "$A|$B"']), secretEnv: { A: { file }, B: { env: 'AIFB_TEST_SECRET' } } }).catch((e) => e);
    expect(String(l)).toMatch(/B: environment variable AIFB_TEST_SECRET is not set/);
    process.env.AIFB_TEST_SECRET = 'from-the-env';
    try {
      const ok = await ex.launch({ ...spec(state, ['sh', '-c', 'echo "$A|$B"'], 2), secretEnv: { A: { file }, B: { env: 'AIFB_TEST_SECRET' } } });
      await waitFor(async () => (await ex.state(ok)).state === 'exited');
      expect(readFileSync(join(ok.dir, 'runner.stdout.log'), 'utf8')).toBe('from-the-file|from-the-env\n');
      for (const f of readdirSync(join(state, 'procs'))) expect(readFileSync(join(state, 'procs', f), 'utf8')).not.toMatch(/from-the-(file|env)/);
    } finally {
      delete process.env.AIFB_TEST_SECRET;
    }
  });

  it('fails with a clear message when the command does not exist', async () => {
    const state = mkdtempSync(join(tmpdir(), 'aifb-exec-'));
    const ex = new LocalExecutor(state);
    await expect(ex.launch(spec(state, ['/no/such/binary']))).rejects.toThrow(/could not start \/no\/such\/binary/);
  });
});
