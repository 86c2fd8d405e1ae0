// Which core each process of a comparison runs on (taskset, util-linux). On a
// virtual machine the cores are not alike: on this repository's 2-core
// development machine the stream reader took 2.9-3.0 us an answer on core 0
// and 4.0-5.2 on core 1, the same build, pinned with taskset. Left to the
// scheduler, a tool's process lands on either, and the ratio between two
// tools measures which core each got. So the server gets one core, and every
// tool, aifb included, the other.
import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';

export interface Cores {
  server: number;
  client: number;
}

/** Server on core 0, tools on core 1; undefined (no pinning) on one core or without a working taskset. */
export function benchCores(): Cores | undefined {
  if (cpus().length < 2) return undefined;
  try {
    execFileSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' });
  } catch {
    return undefined;
  }
  return { server: 0, client: 1 };
}

/** `cmd args` run on `core` (through taskset, which execs it: the pid is the command's). */
export function onCore(core: number | undefined, cmd: string, args: string[]): [string, string[]] {
  return core === undefined ? [cmd, args] : ['taskset', ['-c', String(core), cmd, ...args]];
}

/** Runs `fn` with every thread of this process on `core`, then gives the process back the cores it had. */
export async function withThisProcessOn<T>(core: number | undefined, fn: () => Promise<T>): Promise<T> {
  if (core === undefined) return fn();
  const pid = String(process.pid);
  const before = /:\s*([0-9a-f,]+)\s*$/i.exec(execFileSync('taskset', ['-p', pid], { encoding: 'utf8' }))?.[1];
  if (!before) throw new Error(`taskset -p ${pid} did not print this process's affinity mask`);
  execFileSync('taskset', ['-a', '-p', '-c', String(core), pid], { stdio: 'ignore' });
  try {
    return await fn();
  } finally {
    execFileSync('taskset', ['-a', '-p', before, pid], { stdio: 'ignore' });
  }
}

export const coresWords = (c: Cores | undefined): string => (c ? `the server on core ${c.server}, every tool on core ${c.client} (taskset)` : 'not pinned to cores');
