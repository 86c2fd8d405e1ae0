// Status writes wait while a burst of reconciles is queued, so launches go first.
//
// With 200 Benchmarks copied in at once, the status writes (a YAML splice and
// an fsync each, about 2.3 a resource) were half the controller's main thread
// before the last sbatch: each resource's submission waited behind every
// earlier resource's statuses (issue 13, cp -> sbatch p95). A status in the
// file is a copy of what the controller holds and the status API serves at
// once; losing one to a crash costs nothing, as the next reconcile writes it
// again. So while the queue is busy a write is only noted, and once it is not,
// each noted key gets one write of its latest status, however many it had.

export interface DeferredWritesOptions {
  /** True while the queue holds a burst: writes wait. */
  busy: () => boolean;
  /** Writes key's latest status (what it is when the write runs, not when it was noted). */
  write: (key: string) => Promise<void>;
}

export class DeferredWrites {
  private readonly pending = new Set<string>();
  private flushing?: Promise<void>;

  constructor(private readonly opts: DeferredWritesOptions) {}

  get size(): number {
    return this.pending.size;
  }

  /** True when key's write is left for a flush; false when the caller writes now (and any noted write of key is dropped). */
  defer(key: string): boolean {
    if (this.opts.busy()) {
      this.pending.add(key);
      return true;
    }
    this.pending.delete(key);
    return false;
  }

  /**
   * Writes what waits, one key a turn of the event loop so API answers and
   * job listings are read in between, until none is left or the queue is busy
   * again (`force`, at shutdown: until none is left). One flush at a time.
   */
  flush(force = false): Promise<void> {
    this.flushing ??= this.run(force).finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  private async run(force: boolean): Promise<void> {
    for (const key of this.pending) {
      if (!force && this.opts.busy()) return;
      this.pending.delete(key);
      await this.opts.write(key);
      await new Promise<void>((r) => setImmediate(r));
    }
  }
}
