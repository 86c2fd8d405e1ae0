// Follows a running runner: reads its progress lines as they are written and
// decides, from its done files and the executor, how it ended.
import { closeSync, existsSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { rankFile, RUNNER_EXIT, type RankDone, type RunnerLine } from '../../api/runner-contract.js';
import { mergeLive, type LiveOperations } from '../../monitoring/live.js';
import type { LaunchState, Launched } from '../executor/types.js';
import { isMissingProgram, MISSING_PROGRAM_HINT } from './endpoint.js';

export interface Progress {
  elapsedMs: number;
  requests: number;
  errors: number;
  rps: number;
  p99Ms: number;
}

export interface RunnerExit {
  exitCode: number;
  reason?: string;
  retryable: boolean;
}

/** Reads whole lines appended to a file since the last call. */
export class LineTail {
  private offset = 0;
  private partial = '';
  constructor(private readonly file: string) {}

  read(): string[] {
    if (!existsSync(this.file)) return [];
    const size = statSync(this.file).size;
    if (size <= this.offset) return [];
    const fd = openSync(this.file, 'r');
    try {
      const buf = Buffer.alloc(Math.min(size - this.offset, 1 << 20));
      const n = readSync(fd, buf, 0, buf.length, this.offset);
      this.offset += n;
      const text = this.partial + buf.subarray(0, n).toString('utf8');
      const lines = text.split('\n');
      this.partial = lines.pop() ?? '';
      return lines.filter((l) => l.trim() !== '');
    } finally {
      closeSync(fd);
    }
  }
}

/** Sums progress across ranks: each rank reports its own counts. */
export class ProgressMerger {
  private readonly latest = new Map<number, Progress>();
  private readonly liveByRank = new Map<number, LiveOperations>();

  add(line: string): boolean {
    let parsed: RunnerLine;
    try {
      parsed = JSON.parse(line) as RunnerLine;
    } catch {
      return false;
    }
    if (parsed.event !== 'progress') return false;
    this.latest.set(parsed.rank, parsed);
    if (parsed.live) this.liveByRank.set(parsed.rank, parsed.live);
    return true;
  }

  /** The measured window so far, summed over ranks; undefined while every rank is in its warmup. */
  live(): LiveOperations | undefined {
    return this.liveByRank.size === 0 ? undefined : mergeLive(this.liveByRank.values());
  }

  total(): Progress | undefined {
    if (this.latest.size === 0) return undefined;
    const all = [...this.latest.values()];
    return {
      elapsedMs: Math.max(...all.map((p) => p.elapsedMs)),
      requests: all.reduce((s, p) => s + p.requests, 0),
      errors: all.reduce((s, p) => s + p.errors, 0),
      rps: Math.round(all.reduce((s, p) => s + p.rps, 0) * 10) / 10,
      p99Ms: Math.max(...all.map((p) => p.p99Ms)),
    };
  }
}

/** The runner processes' stdout files (a process with threads writes the lines of all its ranks). */
export function stdoutLogs(launched: Launched, processes: number): string[] {
  return processes > 1
    ? Array.from({ length: processes }, (_, r) => join(launched.dir, `runner.${r}.stdout.log`))
    : [join(launched.dir, 'runner.stdout.log')];
}

/** How the runner ended, from its done files first (they survive a controller restart), given what the executor saw. */
export function runnerExit(state: LaunchState, launched: Launched, ranks: number, processes = ranks): RunnerExit | undefined {
  if (state.state !== 'exited') return undefined;
  const dones: RankDone[] = [];
  for (let r = 0; r < ranks; r++) {
    const file = join(launched.dir, rankFile(r, 'done'));
    if (existsSync(file)) dones.push(JSON.parse(readFileSync(file, 'utf8')) as RankDone);
  }
  const failed = dones.find((d) => d.exitCode !== 0);
  if (dones.length === ranks && !failed) return { exitCode: 0, retryable: false };
  if (failed) {
    // The runner knows what it saw (a signal, a bad config); the scheduler knows why (NODE_FAIL, TIMEOUT).
    const own = `rank ${failed.rank}: ${failed.reason ?? `exited with code ${failed.exitCode}`}`;
    return {
      exitCode: failed.exitCode,
      reason: state.reason ? `${state.reason} (${own})` : own,
      retryable: failed.exitCode !== RUNNER_EXIT.config && state.retryable !== false,
    };
  }
  const code = state.exitCode ?? RUNNER_EXIT.crashed;
  const stderr = join(launched.dir, processes > 1 ? 'runner.0.stderr.log' : 'runner.stderr.log');
  const tail = existsSync(stderr) ? readFileSync(stderr, 'utf8').trim().split('\n').slice(-3).join(' | ') : '';
  // The shell could not find a program (apptainer, node, a setup command): no attempt will.
  const missing = isMissingProgram(state.exitCode);
  // The scheduler's word (NODE_FAIL, TIMEOUT, ...) beats a guess from the exit code.
  if (state.retryable !== undefined && state.reason && !missing) {
    return { exitCode: state.exitCode ?? RUNNER_EXIT.crashed, reason: state.reason, retryable: state.retryable };
  }
  return {
    exitCode: code === 0 ? RUNNER_EXIT.crashed : code,
    reason: `runner ended without writing its results (exit ${state.exitCode ?? 'unknown'})${missing ? `: ${MISSING_PROGRAM_HINT}` : ''}${tail ? `: ${tail}` : ''}; see ${stderr}`,
    retryable: code !== RUNNER_EXIT.config && !missing,
  };
}
