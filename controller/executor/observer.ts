// Watches launches for every resource at once: one executor listing per
// interval (and one state per watched launch, which both executors answer from
// memory or from their one cached squeue), fanned out to the watchers. A
// thousand watchers cost one sweep, not a thousand timers.
import { launchId, type LaunchRef } from '../../api/launch.js';
import type { Clock } from '../runtime/clock.js';
import type { Logger } from '../runtime/logger.js';
import { poll } from '../runtime/poll.js';
import type { Executor, LaunchState, Launched } from './types.js';

/** What a sweep saw of one launch: gone (no record) or its state. */
export type Observed = { launched: Launched; state: LaunchState } | { launched: undefined; state: undefined };

type Watcher = (seen: Observed) => void;

export class LaunchObserver {
  private readonly watchers = new Map<string, Set<Watcher>>();
  private cancel: (() => void) | undefined;

  constructor(
    private readonly executor: Executor,
    private readonly opts: { clock: Clock; intervalMs: number; log: Logger; onSweep?: (seconds: number, ok: boolean) => void },
  ) {}

  /** Calls onSeen after each sweep with what it saw of ref's launch, until the returned function is called. */
  watch(ref: LaunchRef, onSeen: Watcher): () => void {
    const id = launchId(ref);
    let set = this.watchers.get(id);
    if (!set) this.watchers.set(id, (set = new Set()));
    set.add(onSeen);
    this.cancel ??= poll(() => this.sweep(), {
      clock: this.opts.clock,
      intervalMs: this.opts.intervalMs,
      // A scheduler that does not answer is logged once per outage; the sweep goes on.
      onError: (e, inARow) => {
        if (inARow === 1) this.opts.log.warn('Failed to observe launches; will keep trying', { error: (e as Error).message });
      },
    });
    return () => {
      set.delete(onSeen);
      if (set.size === 0) this.watchers.delete(id);
      if (this.watchers.size === 0) {
        this.cancel?.();
        this.cancel = undefined;
      }
    };
  }

  /** How many launches are watched now (for /metrics and tests). */
  get watched(): number {
    return this.watchers.size;
  }

  private async sweep(): Promise<boolean> {
    if (this.watchers.size === 0) return false;
    const began = performance.now();
    try {
      await this.sweepOnce();
      this.opts.onSweep?.((performance.now() - began) / 1000, true);
    } catch (e) {
      this.opts.onSweep?.((performance.now() - began) / 1000, false);
      throw e;
    }
    return false;
  }

  private async sweepOnce(): Promise<void> {
    const byId = new Map((await this.executor.list()).map((l) => [l.id, l]));
    for (const [id, set] of [...this.watchers]) {
      const launched = byId.get(id);
      const seen: Observed = launched ? { launched, state: await this.executor.state(launched) } : { launched: undefined, state: undefined };
      for (const w of [...set]) w(seen);
    }
  }
}
