// Per-second rows for the run's time series: one histogram reused every second
// and rows handed to a sink as each second closes, so memory stays flat.
import type { TimeSeriesRow } from '../../api/runner-contract.js';
import { maxMs, meanMs, newHistogram, percentileMs, recordMs } from './histogram.js';

export type RowSink = (row: TimeSeriesRow) => void;

export class TimeSeries {
  private second = 0;
  private requests = 0;
  private errors = 0;
  private counts: Record<string, number> = {};
  private readonly latency = newHistogram();
  private last: TimeSeriesRow | undefined;

  /** `warmupMs`: a second that starts before warmup ends is flagged as warmup. */
  constructor(
    private readonly sink: RowSink,
    private readonly warmupMs: number,
  ) {}

  /**
   * Counts one finished request at `elapsedMs` since the run started. Calls
   * come in completion order, so time never goes backwards here.
   */
  record(elapsedMs: number, latencyMs: number, ok: boolean): void {
    this.advance(elapsedMs);
    this.requests++;
    if (ok) recordMs(this.latency, latencyMs);
    else this.errors++;
  }

  /** Adds a count metric (tokens, bytes) of the request just recorded to the current second. */
  count(name: string, value: number | readonly number[]): void {
    const n = typeof value === 'number' ? value : value.reduce((a, b) => a + b, 0);
    if (Number.isFinite(n)) this.counts[name] = (this.counts[name] ?? 0) + n;
  }

  /** Closes every second before the one holding `elapsedMs`, quiet ones included. */
  advance(elapsedMs: number): void {
    const target = Math.floor(Math.max(0, elapsedMs) / 1000);
    while (this.second < target) this.flush();
  }

  /** Closes the partial last second; call once when the run ends. */
  finish(elapsedMs: number): void {
    this.advance(elapsedMs);
    if (this.requests > 0 || elapsedMs > this.second * 1000) this.flush();
  }

  /** The most recent closed row (progress lines report its rate and p99). */
  lastRow(): TimeSeriesRow | undefined {
    return this.last;
  }

  private flush(): void {
    const row: TimeSeriesRow = {
      second: this.second,
      warmup: this.second * 1000 < this.warmupMs,
      requests: this.requests,
      errors: this.errors,
      meanMs: round3(meanMs(this.latency)),
      p50Ms: round3(percentileMs(this.latency, 50)),
      p99Ms: round3(percentileMs(this.latency, 99)),
      maxMs: round3(maxMs(this.latency)),
      counts: this.counts,
    };
    this.last = row;
    this.sink(row);
    this.second++;
    this.requests = 0;
    this.errors = 0;
    this.counts = {};
    this.latency.reset();
  }
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
