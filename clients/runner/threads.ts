// Several ranks in one runner process, each in a worker thread of its own
// (runner.threads): a Node process sends from one core, and more SLURM tasks
// are not always what a user can ask for. Each thread runs the whole rank
// (run.ts) as a process would; this side relays its stdout lines, its
// diagnostics and its end.
import { Worker } from 'node:worker_threads';
import { RUNNER_EXIT, type RunnerLine } from '../../api/runner-contract.js';
import type { SpecResult } from './spec.js';

/** What a rank's thread is given (thread-main.ts). */
export interface ThreadInput {
  specPath: string;
  /** The spec as the process read it: plain data, cloned into the thread. */
  read: SpecResult;
  outDir: string;
  rank: number;
}

/** What a rank's thread says, in order; `exit` is its last word. */
export type ThreadMessage =
  | { kind: 'line'; line: RunnerLine }
  | { kind: 'warn'; text: string }
  | { kind: 'report'; text: string }
  | { kind: 'exit'; code: number };

export interface ThreadsOptions {
  specPath: string;
  read: SpecResult;
  outDir: string;
  /** The ranks this process runs, one thread each. */
  ranks: number[];
  signal: AbortSignal;
  emit: (line: RunnerLine) => void;
  warn: (message: string) => void;
  report?: (text: string) => void;
}

const THREAD_MAIN = new URL('./thread-main.js', import.meta.url);

/** Runs every rank to its end; the process's exit code is the first failed rank's, by rank. */
export async function runThreads(o: ThreadsOptions): Promise<number> {
  const codes = await Promise.all(o.ranks.map((rank) => runThread(rank, o)));
  return codes.find((c) => c !== RUNNER_EXIT.ok) ?? RUNNER_EXIT.ok;
}

function runThread(rank: number, o: ThreadsOptions): Promise<number> {
  return new Promise((resolve) => {
    // None of the process's node flags (--cpu-prof is per thread anyway, and some flags stop a worker).
    const worker = new Worker(THREAD_MAIN, { workerData: { specPath: o.specPath, read: o.read, outDir: o.outDir, rank } satisfies ThreadInput, execArgv: [] });
    let code: number | undefined;
    const abort = () => worker.postMessage('abort');
    o.signal.addEventListener('abort', abort, { once: true });
    if (o.signal.aborted) abort();
    worker.on('message', (m: ThreadMessage) => {
      if (m.kind === 'line') o.emit(m.line);
      else if (m.kind === 'warn') o.warn(`rank ${rank}: ${m.text}`);
      else if (m.kind === 'report') o.report?.(m.text);
      else {
        code = m.code;
        void worker.terminate();
      }
    });
    worker.on('error', (e) => o.warn(`rank ${rank}: crashed: ${e.stack ?? e.message}`));
    worker.on('exit', () => {
      o.signal.removeEventListener('abort', abort);
      resolve(code ?? RUNNER_EXIT.crashed);
    });
  });
}
