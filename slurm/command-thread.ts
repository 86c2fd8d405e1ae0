// Spawns SLURM commands from a worker thread. libuv's spawn blocks its thread
// until the child has exec'd, and on a loaded node that wait is long: 200 short
// commands at once kept the main thread busy for their whole 4.2 s when
// spawned there, and for under 0.1 s from a worker (2-core machine), time the
// controller needs for status writes and the API. Outside compiled code (the
// TypeScript sources under vitest) there is no worker script, and commands are
// spawned in the calling thread as before.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { runCommand, type RunOptions, type RunOutcome } from './run-command.js';

export type ThreadRequest = { type: 'run'; id: number; argv: string[]; opts: Omit<RunOptions, 'signal'> } | { type: 'abort'; id: number };
export interface ThreadReply {
  id: number;
  outcome: RunOutcome;
}

/** The compiled worker beside this module, when this module is compiled. */
export function defaultWorkerScript(): string | undefined {
  const here = fileURLToPath(import.meta.url);
  if (!here.endsWith('.js')) return undefined;
  const script = fileURLToPath(new URL('./command-worker.js', import.meta.url));
  return existsSync(script) ? script : undefined;
}

export class CommandThread {
  private worker?: Worker;
  private nextId = 0;
  private readonly pending = new Map<number, (o: RunOutcome) => void>();

  constructor(private readonly script = defaultWorkerScript()) {}

  run(argv: string[], opts: RunOptions): Promise<RunOutcome> {
    if (!this.script) return runCommand(argv, opts);
    if (opts.signal?.aborted) return Promise.resolve({ kind: 'aborted' });
    const worker = this.started();
    const id = ++this.nextId;
    const { signal, ...rest } = opts;
    return new Promise<RunOutcome>((resolve) => {
      const onAbort = () => worker.postMessage({ type: 'abort', id } satisfies ThreadRequest);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.pending.set(id, (outcome) => {
        signal?.removeEventListener('abort', onAbort);
        resolve(outcome);
      });
      // The thread keeps the process alive only while a command is under way.
      if (this.pending.size === 1) worker.ref();
      worker.postMessage({ type: 'run', id, argv, opts: rest } satisfies ThreadRequest);
    });
  }

  /** Ends the thread; commands under way are ended with it and fail. */
  async close(): Promise<void> {
    await this.worker?.terminate();
  }

  private started(): Worker {
    if (this.worker) return this.worker;
    // None of this process's node flags: the thread only spawns, and some flags (--input-type) stop a worker.
    const worker = new Worker(this.script!, { execArgv: [] });
    worker.unref();
    worker.on('message', (m: ThreadReply) => this.settle(m.id, m.outcome));
    const lost = (why: string) => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      for (const id of [...this.pending.keys()]) this.settle(id, { kind: 'failed', message: `the command thread ${why}` });
    };
    worker.on('error', (e) => lost(`failed: ${e.message}`));
    worker.on('exit', (code) => lost(`exited (${code})`));
    this.worker = worker;
    return worker;
  }

  private settle(id: number, outcome: RunOutcome): void {
    const resolve = this.pending.get(id);
    if (!resolve) return;
    this.pending.delete(id);
    if (this.pending.size === 0) this.worker?.unref();
    resolve(outcome);
  }
}
