// A work queue keyed by resource (kind/name), as controller-runtime has: a key
// is queued at most once, never runs twice at once, and failures back off.

import { systemClock, type Clock } from '../runtime/clock.js';

export type ReconcileResult = { requeueAfterMs?: number } | void;

export interface WorkQueueOptions {
  workers?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  clock?: Clock;
  /** Told about every failure, with the delay before the retry. */
  onError?: (key: string, error: unknown, retryInMs: number) => void;
}

export class WorkQueue {
  private readonly queue: string[] = [];
  /** Keys of resources the user changed: taken before `queue` (see addChanged). */
  private readonly changed: string[] = [];
  private readonly queued = new Set<string>();
  private readonly processing = new Set<string>();
  /** Keys added while they were processing: run once more when that ends. */
  private readonly dirty = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly timers = new Map<string, { at: number; handle: unknown }>();
  private readonly workers: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly clock: Clock;
  private running = false;
  private idleWaiters: Array<() => void> = [];

  constructor(
    private readonly handler: (key: string) => Promise<ReconcileResult>,
    private readonly opts: WorkQueueOptions = {},
  ) {
    this.workers = opts.workers ?? 2;
    this.baseDelayMs = opts.baseDelayMs ?? 500;
    this.maxDelayMs = opts.maxDelayMs ?? 300_000;
    this.clock = opts.clock ?? systemClock;
  }

  start(): void {
    this.running = true;
    this.pump();
  }

  /** Stops taking work and waits for what is in flight. */
  async stop(): Promise<void> {
    this.running = false;
    for (const t of this.timers.values()) this.clock.clearTimeout(t.handle);
    this.timers.clear();
    if (this.processing.size > 0) await new Promise<void>((r) => this.idleWaiters.push(r));
  }

  add(key: string): void {
    if (this.processing.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (this.queued.has(key)) return;
    this.queued.add(key);
    this.queue.push(key);
    this.pump();
  }

  /**
   * A key whose resource the user added or edited: it goes before the keys the
   * controller queued itself (a status to refresh after a job started, a retry).
   * Two hundred files copied in at once would otherwise see their jobs
   * submitted behind the status updates of the first ones submitted.
   */
  addChanged(key: string): void {
    if (this.processing.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (this.queued.has(key)) {
      const at = this.queue.indexOf(key);
      if (at < 0) return;
      this.queue.splice(at, 1);
    }
    this.queued.add(key);
    this.changed.push(key);
    this.pump();
  }

  /** Keys waiting for a worker (not those being reconciled or scheduled later), for /metrics. */
  get depth(): number {
    return this.changed.length + this.queue.length;
  }

  /** Adds the key after ms; an earlier pending add for the same key wins. */
  addAfter(key: string, ms: number): void {
    if (ms <= 0) return this.add(key);
    const at = this.clock.now() + ms;
    const existing = this.timers.get(key);
    if (existing && existing.at <= at) return;
    if (existing) this.clock.clearTimeout(existing.handle);
    const handle = this.clock.setTimeout(() => {
      this.timers.delete(key);
      this.add(key);
    }, ms);
    this.timers.set(key, { at, handle });
  }

  /** Delay before the next retry of key: base * 2^failures, capped. */
  backoffFor(key: string): number {
    const n = this.failures.get(key) ?? 0;
    return Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** n);
  }

  isProcessing(key: string): boolean {
    return this.processing.has(key);
  }

  /** Resolves when nothing is queued or running (delayed adds are not waited for). */
  idle(): Promise<void> {
    if (this.depth === 0 && this.processing.size === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  private pump(): void {
    while (this.running && this.processing.size < this.workers && this.depth > 0) {
      const key = this.changed.shift() ?? this.queue.shift()!;
      this.queued.delete(key);
      this.processing.add(key);
      void this.process(key);
    }
    if (this.processing.size === 0 && (this.depth === 0 || !this.running)) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      waiters.forEach((w) => w());
    }
  }

  private async process(key: string): Promise<void> {
    try {
      // A reconcile may not wait on any I/O (status writes are synchronous): without this turn, a
      // queue of a thousand would run as one task, and no answer (a listing of the jobs, an API
      // request) would be read before the last of them.
      await new Promise<void>((r) => setImmediate(r));
      const result = await this.handler(key);
      this.failures.delete(key);
      if (result && result.requeueAfterMs !== undefined) this.addAfter(key, result.requeueAfterMs);
    } catch (error) {
      // A reconcile fails only on what may pass (a file mid-write, a full disk): retry with backoff.
      // What retrying cannot fix is a status (Invalid, Failed), never an error here.
      const delay = this.backoffFor(key);
      this.failures.set(key, (this.failures.get(key) ?? 0) + 1);
      this.opts.onError?.(key, error, delay);
      this.addAfter(key, delay);
    } finally {
      this.processing.delete(key);
      if (this.dirty.delete(key)) this.add(key);
      this.pump();
    }
  }
}
