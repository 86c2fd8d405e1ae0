// How an SLO check reads in a report. The judgement itself (evaluateSlo) is in
// api/slo.ts, so a runner can judge a sweep point the way reports judge a run.
import type { SloCheck } from '../../api/slo.js';

export { evaluateSlo, type SloInputs } from '../../api/slo.js';

/** How a check reads in a table: "p99 ttft (failures as inf)" for a per-request limit, and "inf" where failures fill the percentile. */
export function checkLabel(c: SloCheck): { name: string; actual: string | number } {
  return { name: c.percentile === undefined ? c.name : `p${c.percentile} ${c.name} (failures as inf)`, actual: c.actual ?? 'inf' };
}
