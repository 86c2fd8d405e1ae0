// Gives back the memory a burst of work grew, once the controller is quiet.
//
// V8 grows its young generation while a burst allocates (1,000 resource files
// dropped at once took it from 1 MiB to 32 MiB) and shrinks it only in a
// collection that finds the allocation since the previous one slow (under
// 1 KB/ms over V8's last 5 s). A quiet controller collects so seldom that
// such a collection may come long after, or never: the 32 MiB stayed
// resident for as long as it was watched. So once the work has stopped, two
// young-generation collections (about 2 ms each): the first ends the
// burst's accounting, the second, a quiet spell later, finds the slow rate
// and shrinks (issue 13, `npm run bench -- controller`: RSS at 1,000 from
// 164 to 134 MiB).
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Clock } from './clock.js';

export interface SettleCollectorOptions {
  /** Runs one collection (youngCollection() in the controller, a spy in tests). */
  collect: () => void;
  clock: Clock;
  /** Collect once no work was noted for this long. */
  quietMs?: number;
  /** ...and at least this much work was noted since the last collection: a few reconciles grow nothing. */
  minWork?: number;
}

/** Longer than V8's 5 s window, so the second collection's rate is the quiet spell's alone. */
const QUIET_MS = 6_000;
const MIN_WORK = 100;

/**
 * Counts work (one reconcile, for instance) and collects after each burst of
 * it: once at least minWork came since the last collection and none for
 * quietMs, and again after another quietMs (the one that shrinks). One timer
 * at a time, armed by the first work after a quiet spell and moved on when
 * it fires early, so a busy controller pays a counter and a clock read per
 * reconcile and an idle one nothing.
 */
export class SettleCollector {
  private readonly quietMs: number;
  private readonly minWork: number;
  private work = 0;
  private lastWorkAt = 0;
  private followUp = false;
  private timer: unknown;
  private stopped = false;

  constructor(private readonly opts: SettleCollectorOptions) {
    this.quietMs = opts.quietMs ?? QUIET_MS;
    this.minWork = opts.minWork ?? MIN_WORK;
  }

  noteWork(): void {
    this.work++;
    this.lastWorkAt = this.opts.clock.now();
    if (this.timer === undefined && !this.stopped) this.arm(this.quietMs);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) this.opts.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(ms: number): void {
    this.timer = this.opts.clock.setTimeout(() => this.check(), ms);
  }

  private check(): void {
    this.timer = undefined;
    const quiet = this.opts.clock.now() - this.lastWorkAt;
    if (quiet < this.quietMs) return this.arm(this.quietMs - quiet);
    if (this.work >= this.minWork) {
      this.work = 0;
      this.followUp = true;
      this.opts.collect();
      return this.arm(this.quietMs);
    }
    if (this.followUp) {
      this.followUp = false;
      this.opts.collect();
    }
  }
}

/**
 * V8's young-generation collection, as `--expose-gc` gives it, without
 * asking every launcher (npm start, the aifbctl bin, slurm/controller.sbatch)
 * for the flag: a context made while the flag is on gets `gc`, and the flag
 * goes off again so no later context does. Undefined where the runtime
 * refuses.
 */
export function youngCollection(): (() => void) | undefined {
  const given = (globalThis as { gc?: unknown }).gc;
  if (typeof given === 'function') return () => void given({ type: 'minor' });
  try {
    setFlagsFromString('--expose-gc');
    const gc: unknown = runInNewContext('gc');
    return typeof gc === 'function' ? () => void gc({ type: 'minor' }) : undefined;
  } catch {
    return undefined;
  } finally {
    setFlagsFromString('--no-expose-gc');
  }
}
