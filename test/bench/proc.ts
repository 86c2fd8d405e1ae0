// Another process's CPU time, read from /proc (Linux): what the benches use to
// charge a server, a controller or a peer tool with the CPU it spent.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';

const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** utime + stime of a process so far, in seconds; undefined when /proc has no such process. */
export function processCpuSeconds(pid: number): number | undefined {
  const file = `/proc/${pid}/stat`;
  if (!existsSync(file)) return undefined;
  const stat = readFileSync(file, 'utf8');
  // Fields 14 and 15 of proc(5), counted from pid = 1; after the parenthesised command name the list starts at field 3.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

/** The same, for a process the bench started and needs alive: its absence is the bench's error, named by `what`. */
export function liveProcessCpuSeconds(pid: number, what: string): number {
  const s = processCpuSeconds(pid);
  if (s === undefined) throw new Error(`${what} (pid ${pid}) is gone: no /proc/${pid}/stat`);
  return s;
}
