// Early stopping as MLPerf LoadGen does it: a percentile verdict ("p99 TTFT is
// within 2 s") is settled once a one-sided binomial bound says the share of
// requests over the limit is below (met) or above (missed) 1 - percentile at
// the stated confidence. A failed request is over every limit.
import type { EarlyStop, RequestLimitName } from '../../api/slo.js';

export type Verdict = 'met' | 'missed' | 'open';

/** P(X <= k) for X ~ Binomial(n, q), summed in log space so n in the millions neither underflows nor loses the tail. */
export function binomialCdf(k: number, n: number, q: number): number {
  if (k < 0) return 0;
  if (k >= n || q <= 0) return 1;
  if (q >= 1) return 0;
  const ratio = Math.log(q) - Math.log1p(-q);
  let logPmf = n * Math.log1p(-q);
  let logSum = logPmf;
  for (let i = 0; i < k; i++) {
    logPmf += Math.log((n - i) / (i + 1)) + ratio;
    const hi = Math.max(logSum, logPmf);
    logSum = hi + Math.log(Math.exp(logSum - hi) + Math.exp(logPmf - hi));
  }
  return Math.min(1, Math.exp(logSum));
}

/**
 * The verdict on "the `percentile` of a metric is within its limit" after `n`
 * requests of which `over` exceeded the limit (or failed).
 */
export function verdictOf(over: number, n: number, percentile: number, confidence: number): Verdict {
  const q = 1 - percentile / 100;
  const alpha = 1 - confidence;
  if (binomialCdf(over, n, q) <= alpha) return 'met';
  if (1 - binomialCdf(over - 1, n, q) <= alpha) return 'missed';
  return 'open';
}

/** Counts requests over each limit and says when every verdict is settled. */
export class EarlyStopper {
  private n = 0;
  private readonly over = new Map<RequestLimitName, number>();

  constructor(
    private readonly names: readonly RequestLimitName[],
    private readonly percentile: number,
    private readonly options: EarlyStop,
  ) {
    for (const name of names) this.over.set(name, 0);
  }

  /** One measured request: `isOver(name)` for a success, every limit over for a failure. */
  record(isOver: ((name: RequestLimitName) => boolean) | 'failed'): void {
    this.n++;
    for (const name of this.names) if (isOver === 'failed' || isOver(name)) this.over.set(name, this.over.get(name)! + 1);
  }

  verdicts(): Partial<Record<RequestLimitName, Verdict>> {
    const out: Partial<Record<RequestLimitName, Verdict>> = {};
    for (const [name, over] of this.over) out[name] = verdictOf(over, this.n, this.percentile, this.options.confidence);
    return out;
  }

  /**
   * True once enough requests are in and no verdict is open. ITL is judged
   * over token gaps, not requests, so a run that limits it goes to its end.
   */
  settled(): boolean {
    if (this.n < this.options.minRequests || this.names.includes('itl')) return false;
    return Object.values(this.verdicts()).every((v) => v !== 'open');
  }
}
