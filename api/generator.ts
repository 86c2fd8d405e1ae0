// Whether a run's own load generator kept up (open loop): a number the client
// limited must never be published without the user being told. Judged the same
// way for one rank (the runner's summary) and for the merged run (status,
// reports, the GeneratorKeptUp condition).
import { z } from 'zod';

/** Achieved below this share of the target rate: the load was not what was asked. */
export const MIN_ACHIEVED_SHARE = 0.99;
/** A send-lag p99 above this, ms: requests left later than scheduled, so latency from the intended time includes the client's own delay. */
export const MAX_SEND_LAG_P99_MS = 1;

export const GeneratorCheck = z.object({
  /** load.rate (this rank's share of it, for one rank), req/s. */
  targetRate: z.number(),
  /** Requests sent in the measured window per second (dropped arrivals are not sent). */
  achievedRate: z.number(),
  sendLagP99Ms: z.number(),
  /** Arrivals refused at load.concurrency in the measured window. */
  dropped: z.number(),
  keptUp: z.boolean(),
  /** Why not, in words a user can act on; absent when it kept up. */
  why: z.string().optional(),
});
export type GeneratorCheck = z.output<typeof GeneratorCheck>;

export function checkGenerator(o: { targetRate: number; sent: number; measuredS: number; sendLagP99Ms: number; dropped: number }): GeneratorCheck {
  const achievedRate = o.measuredS > 0 ? o.sent / o.measuredS : 0;
  const round = (x: number) => Math.round(x * 1000) / 1000;
  const short = achievedRate < MIN_ACHIEVED_SHARE * o.targetRate;
  const late = o.sendLagP99Ms > MAX_SEND_LAG_P99_MS;
  const reasons: string[] = [];
  if (short) {
    const pct = o.targetRate > 0 ? ((100 * achievedRate) / o.targetRate).toFixed(1) : '0';
    reasons.push(
      o.dropped > 0
        ? `sent ${round(achievedRate)} of ${o.targetRate} req/s (${pct}%): ${o.dropped} arrivals found load.concurrency requests in flight and were dropped (the service could not keep up, or raise load.concurrency)`
        : `sent ${round(achievedRate)} of ${o.targetRate} req/s (${pct}%)`,
    );
  }
  if (late) {
    reasons.push(`send lag p99 ${round(o.sendLagP99Ms)} ms > ${MAX_SEND_LAG_P99_MS} ms: the runner sent requests late, so latencies include its own delay (more ranks with spec.runner, or a lower rate)`);
  }
  return {
    targetRate: o.targetRate,
    achievedRate: round(achievedRate),
    sendLagP99Ms: round(o.sendLagP99Ms),
    dropped: o.dropped,
    keptUp: !short && !late,
    ...(reasons.length > 0 ? { why: `the load generator did not keep up: ${reasons.join('; ')}` } : {}),
  };
}
