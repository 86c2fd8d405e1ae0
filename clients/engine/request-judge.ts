// Judges one successful request against the SLO's per-request limits: good
// when within all of them (goodput counts those), and which ones it broke
// (early stopping counts those).
import type { RequestLimitName, RequestLimits } from '../../api/slo.js';

/** The request's worst value of a metric (its largest token gap, say), or undefined when it reported none. */
export type WorstOf = (metric: string) => number | undefined;

export class RequestJudge {
  readonly names: RequestLimitName[];

  constructor(private readonly limits: RequestLimits) {
    this.names = (Object.keys(limits) as RequestLimitName[]).filter((k) => limits[k] !== undefined);
  }

  /** Whether the request broke `name`'s limit. A metric the request did not report (TPOT of a one-token answer) breaks nothing. */
  isOver(name: RequestLimitName, latencyMs: number, worst: WorstOf): boolean {
    const value = name === 'e2e' ? latencyMs : worst(name);
    return value !== undefined && value > this.limits[name]!;
  }

  isGood(latencyMs: number, worst: WorstOf): boolean {
    return this.names.every((name) => !this.isOver(name, latencyMs, worst));
  }
}
