import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CommandThread } from '../../../slurm/command-thread.js';

// The compiled worker (npm run build precedes the tests): under vitest the
// sources have none, and commands would run in this thread instead.
const thread = new CommandThread(join(import.meta.dirname, '..', '..', '..', 'dist', 'slurm', 'command-worker.js'));
afterAll(() => thread.close());
const opts = { timeoutMs: 5000, maxBuffer: 1 << 20 };

describe('SLURM commands spawned from a worker thread', () => {
  it('returns exit code, stdout and stderr, with the environment it is given', async () => {
    const r = await thread.run(['sh', '-c', 'echo "$AIFB_X"; echo oops >&2; exit 3'], { ...opts, env: { ...process.env, AIFB_X: 'from-main' } });
    expect(r).toEqual({ kind: 'exited', exitCode: 3, stdout: 'from-main\n', stderr: 'oops\n' });
  });

  it('runs commands side by side, each answer to its own caller', async () => {
    const rs = await Promise.all([3, 1, 2].map((n) => thread.run(['sh', '-c', `sleep 0.${n}; echo ${n}`], opts)));
    expect(rs.map((r) => (r.kind === 'exited' ? r.stdout : r.kind))).toEqual(['3\n', '1\n', '2\n']);
  });

  it('kills a command on abort or timeout, and says which', async () => {
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 100);
    const started = Date.now();
    const [aborted, timedOut] = await Promise.all([
      thread.run(['sleep', '5'], { ...opts, signal: abort.signal }),
      thread.run(['sleep', '5'], { ...opts, timeoutMs: 150 }),
    ]);
    expect(aborted).toEqual({ kind: 'aborted' });
    expect(timedOut).toEqual({ kind: 'timedOut' });
    expect(Date.now() - started).toBeLessThan(4000);
  });

  it('says a missing binary is missing', async () => {
    expect(await thread.run(['aifb-no-such-binary'], opts)).toEqual({ kind: 'missing' });
  });

  it('fails the commands under way when the thread ends, and starts a new one for the next', async () => {
    const under = thread.run(['sleep', '5'], opts);
    await new Promise((r) => setTimeout(r, 50));
    await thread.close();
    expect(await under).toMatchObject({ kind: 'failed', message: expect.stringContaining('command thread exited') });
    expect(await thread.run(['echo', 'again'], opts)).toMatchObject({ kind: 'exited', stdout: 'again\n' });
  });
});
