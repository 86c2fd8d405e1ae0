// A model pull's progress, summed over its layers, and the few moments worth an
// event: Ollama sends a progress line every 60 ms per layer, thousands for a
// big model, and a resource keeps only its last 100 events.
import type { PullLine } from './ollama-api.js';

/** An event at each quarter of the bytes, and between quarters no more than this often (a slow link). */
export const PULL_HEARTBEAT_MS = 120_000;

/** Decimal units, as Ollama prints them: `1.3 GB`. */
export function bytesText(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${i === 0 || v >= 100 ? Math.round(v) : v.toFixed(1)} ${units[i]}`;
}

export class PullProgress {
  private readonly layers = new Map<string, { total: number; completed: number }>();
  private quarter = 0;
  private lastReportAt: number;
  private lastReportedBytes = 0;

  constructor(
    private readonly model: string,
    private readonly now: () => number,
    private readonly heartbeatMs = PULL_HEARTBEAT_MS,
  ) {
    this.lastReportAt = now();
  }

  /** Bytes done and known so far (the total grows as each layer is announced). */
  get bytes(): { completed: number; total: number } {
    let completed = 0;
    let total = 0;
    for (const l of this.layers.values()) {
      completed += l.completed;
      total += l.total;
    }
    return { completed, total };
  }

  /** `45% of 1.3 GB`, or `0%` before the first layer is announced. */
  amount(): string {
    const { completed, total } = this.bytes;
    return total === 0 ? '0%' : `${Math.floor((100 * completed) / total)}% of ${bytesText(total)}`;
  }

  /** `pulling llama3.2:1b: 45% of 1.3 GB`. */
  text(): string {
    return `pulling ${this.model}: ${this.amount()}`;
  }

  /** Takes one line of the stream; returns a message when this one is worth an event. */
  take(line: PullLine): string | undefined {
    if (!line.digest || typeof line.total !== 'number' || line.total <= 0) return undefined;
    this.layers.set(line.digest, { total: line.total, completed: Math.min(line.total, Math.max(0, line.completed ?? 0)) });
    const { completed, total } = this.bytes;
    const quarter = Math.floor((4 * completed) / total);
    // 100% is told by the success that follows, not here.
    const crossed = quarter > this.quarter && quarter < 4;
    const overdue = this.now() - this.lastReportAt >= this.heartbeatMs && completed > this.lastReportedBytes && completed < total;
    if (quarter > this.quarter) this.quarter = quarter;
    if (!crossed && !overdue) return undefined;
    this.lastReportAt = this.now();
    this.lastReportedBytes = completed;
    return this.text();
  }
}
