// The bench's core pinning (test/bench/cores.ts) with the real taskset: a
// command runs on the core asked, and this process runs on it only for the
// time asked, then has its cores back.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { describe, expect, it } from 'vitest';
import { benchCores, onCore, withThisProcessOn } from '../../bench/cores.js';

/** Cpus_allowed_list of every thread of this process, as the kernel says. */
const threadCores = (): string[] => {
  const dir = `/proc/${process.pid}/task`;
  return execFileSync('ls', [dir], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .map((tid) => /Cpus_allowed_list:\s*(\S+)/.exec(readFileSync(`${dir}/${tid}/status`, 'utf8'))![1]);
};

describe.skipIf(cpus().length < 2)('bench cores', () => {
  it('puts the server and the tools on two different cores', () => {
    expect(benchCores()).toEqual({ server: 0, client: 1 });
  });

  it('runs a command on the core asked', () => {
    const [cmd, args] = onCore(1, 'grep', ['Cpus_allowed_list', '/proc/self/status']);
    expect(execFileSync(cmd, args, { encoding: 'utf8' })).toMatch(/Cpus_allowed_list:\s*1\n/);
  });

  it('runs every thread of this process on the core asked while the work runs, and gives its cores back after', async () => {
    const before = threadCores();
    const during = await withThisProcessOn(1, async () => threadCores());
    expect(new Set(during)).toEqual(new Set(['1']));
    expect(threadCores()).toEqual(before);
  });
});
