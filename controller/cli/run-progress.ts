// What `aifbctl run` shows while the runner works: a one-line bar redrawn in
// place on a terminal, plain lines every few seconds otherwise (a CI log, a
// pipe), both from the runner's merged progress lines.
import type { Progress } from '../reconcile/runner-watch.js';
import { formatCount, formatLatency } from './format.js';

export interface Planned {
  /** Warmup plus duration, ms; undefined when only maxRequests ends the run. */
  totalMs?: number;
  warmupMs: number;
  maxRequests?: number;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)}s`;

/** Share done in [0, 1], by time or by requests, whichever the run is bounded by. */
export function doneShare(p: Progress, plan: Planned): number | undefined {
  const byTime = plan.totalMs ? p.elapsedMs / plan.totalMs : undefined;
  const byCount = plan.maxRequests ? p.requests / plan.maxRequests : undefined;
  const share = Math.max(byTime ?? 0, byCount ?? 0);
  return byTime === undefined && byCount === undefined ? undefined : Math.min(1, share);
}

/** `[=========>          ]  45%  4.5s/10s  12345 req  2468 req/s  p99 12.3ms  3 err  5.5s left` */
export function progressLine(p: Progress, plan: Planned, width = 20): string {
  const share = doneShare(p, plan);
  const filled = share === undefined ? 0 : Math.round(share * width);
  const percent = share === undefined ? '' : `${String(Math.round(share * 100)).padStart(3)}%  `;
  const bar = share === undefined || width === 0 ? '' : `[${'='.repeat(Math.max(0, filled - 1))}${filled > 0 ? '>' : ''}${' '.repeat(width - filled)}] `;
  return `${bar}${percent}${rest(p, plan)}`;
}

function rest(p: Progress, plan: Planned): string {
  const phase = p.elapsedMs < plan.warmupMs ? 'warmup  ' : '';
  const clock = plan.totalMs ? `${seconds(p.elapsedMs)}/${seconds(plan.totalMs)}` : seconds(p.elapsedMs);
  const left = plan.totalMs ? `  ${seconds(Math.max(0, plan.totalMs - p.elapsedMs))} left` : '';
  const errors = p.errors > 0 ? `  ${formatCount(p.errors)} err` : '';
  return `${phase}${clock}  ${formatCount(p.requests)} req  ${formatCount(Math.round(p.rps))} req/s  p99 ${formatLatency(p.p99Ms)}${errors}${left}`;
}

/** Redraws in place on a TTY (clearing the line), else prints a line every `everyMs`. */
export class ProgressView {
  private lastPlain = -Infinity;
  private drawn = false;

  constructor(
    private readonly write: (s: string) => void,
    private readonly tty: boolean,
    private readonly plan: Planned,
    private readonly everyMs = 5000,
  ) {}

  show(p: Progress): void {
    if (this.tty) {
      this.write(`\r\x1b[2K${progressLine(p, this.plan)}`);
      this.drawn = true;
    } else if (p.elapsedMs - this.lastPlain >= this.everyMs) {
      this.lastPlain = p.elapsedMs;
      this.write(`${progressLine(p, this.plan, 0).trimStart()}\n`);
    }
  }

  /** Ends the bar's line so what follows starts on a fresh one. */
  done(): void {
    if (this.drawn) this.write('\n');
    this.drawn = false;
  }
}
