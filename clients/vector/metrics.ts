// What every vector workload measures besides latency, declared once so faiss,
// chromadb and weaviate report the same names; and the order queries are searched in.
import type { MetricDecl } from '../../api/metrics.js';

export const VECTOR_METRICS: readonly MetricDecl[] = [
  {
    name: 'recall',
    kind: 'value',
    unit: 'ratio',
    help: 'recall@k of a search against the exact neighbours, once per scored query per point (a repeat adds nothing); with its 95% Wilson interval',
    interval: 'wilson',
  },
  { name: 'insertToSearchable', kind: 'timing', unit: 'ms', help: 'streaming: from a streamed insert\'s scheduled time until a search first returns it' },
  { name: 'notSearchable', kind: 'count', unit: 'inserts', help: 'streaming: inserts not returned by a search within probeTimeout' },
  { name: 'checkpointRecall', kind: 'value', unit: 'ratio', help: 'streaming: mean recall@k over every scored query, once per checkpoint' },
  { name: 'loadTime', kind: 'timing', unit: 'ms', help: 'measured once in setup, under operation "load": getting the base vectors into the backend (see the workload)' },
  { name: 'buildTime', kind: 'timing', unit: 'ms', help: 'measured once in setup, under operation "build": building the index (see the workload)' },
];

/** Operation names the setup figures are recorded under; they are never drawn from the mix. */
export const SETUP_OPERATIONS = ['load', 'build'] as const;

/**
 * The order a rank searches queries in, restarted at every point so every point
 * (every efSearch of a sweep) searches the same queries: the scored ones first,
 * so a short point scores as many as it searches, then the rest. Ranks start
 * at different places in the scored ones.
 */
export class QueryCursor {
  private readonly order: number[];
  private readonly start: number;
  private i = 0;

  constructor(queryCount: number, scored: readonly number[], rank = 0, ranks = 1) {
    const isScored = new Set(scored);
    this.order = [...scored, ...Array.from({ length: queryCount }, (_, q) => q).filter((q) => !isScored.has(q))];
    this.start = Math.floor((rank * Math.max(1, scored.length)) / ranks);
  }

  private measuring = false;

  /**
   * The next query. The first one of the measured window starts the order
   * again: the warmup's searches (whose results are dropped) must not use up
   * the scored queries.
   */
  next(measured = true): number {
    if (measured && !this.measuring) {
      this.measuring = true;
      this.i = 0;
    }
    return this.order[(this.start + this.i++) % this.order.length];
  }

  /** At every point: its warmup, then its measured window from the first query again. */
  restart(): void {
    this.i = 0;
    this.measuring = false;
  }
}
