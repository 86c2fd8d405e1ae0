// The load engine: drives one client in closed loop (N workers) or open loop
// (scheduled arrivals, concurrency cap), measuring from the intended send time.
import type { MetricDecl, MetricSample } from '../../api/metrics.js';
import type { Load } from '../../api/schemas.js';
import { requestLimits, type Slo } from '../../api/slo.js';
import type { BenchmarkClient, Operation } from '../client.js';
import type { OperationTotals, RunnerLine } from '../../api/runner-contract.js';
import { createArrivals } from './arrivals.js';
import type { Clock } from './clock.js';
import { EarlyStopper, type Verdict } from './early-stop.js';
import { RankHistogramSet } from './histogram.js';
import { operationMix, sizeDistribution, type WeightedChoice } from './mix.js';
import { RequestJudge, type WorstOf } from './request-judge.js';
import { createRng, deriveSeed } from './rng.js';
import { rankShare, stopReason, type StopLimits, type StopReason } from './stop.js';
import { TimeSeries, type RowSink } from './timeseries.js';

export type EngineProgress = Omit<Extract<RunnerLine, { event: 'progress' }>, 'event' | 'rank'>;

export interface RunLoadOptions {
  client: BenchmarkClient;
  /** What the client declares it measures besides latency (its workload definition's metrics). */
  metrics?: readonly MetricDecl[];
  load: Load;
  /** Per-request limits count good requests (goodput); with earlyStop the run may end once their verdicts are settled. */
  slo?: Slo;
  ranks: number;
  rank: number;
  clock: Clock;
  /** Called once per second of the run. */
  onProgress?: (p: EngineProgress) => void;
  /** Receives each time-series row as its second closes. */
  onRow?: RowSink;
  /** Aborting stops sending, drains in-flight requests and returns partial results. */
  signal?: AbortSignal;
  /** Asked once a second: true ends the run as `stonewall` (another rank finished its share). */
  stonewall?: () => boolean;
  /** How long to wait for in-flight requests once the run stops; later ones are abandoned. */
  drainTimeoutMs?: number;
}

export interface LoadResults {
  histograms: RankHistogramSet;
  /** Measured window only (warmup excluded); `requests` counts successes and errors. */
  operations: Record<string, OperationTotals>;
  totals: Omit<OperationTotals, 'metrics'> & { dropped: number };
  maxSendLagMs: number;
  stopReason: StopReason;
  /** Offsets in ms from the start of the run. */
  measureStartMs: number;
  endMs: number;
  measuredMs: number;
  warmupMs: number;
  /** Requests still in flight when the drain timeout passed; not counted anywhere. */
  abandoned: number;
  /** Requests sent in the measured window (answered or not). */
  sent: number;
  /** Open loop: this rank's share of load.rate, req/s. */
  targetRate?: number;
  /** With slo.earlyStop: each per-request limit's verdict at the end. */
  verdicts?: Partial<Record<string, Verdict>>;
}

const MAX_REASONS = 20;
const OTHER_REASON = '(other errors)';
const REASON_LENGTH = 200;
/** Back-to-back sends yield to the event loop this often so completions and signals get a turn. */
const YIELD_EVERY = 64;

export function emptyTotals(): OperationTotals {
  return { requests: 0, errors: 0, errorsByReason: {}, metrics: {} };
}

/** Adds `n` errors for `reason`, keeping at most 20 keys: 19 distinct reasons, then one lump. */
export function countReason(reasons: Record<string, number>, message: string, n = 1): void {
  const reason = message.length > REASON_LENGTH ? `${message.slice(0, REASON_LENGTH)}...` : message;
  const known = reason in reasons;
  const key = known || Object.keys(reasons).length < MAX_REASONS - 1 ? reason : OTHER_REASON;
  reasons[key] = (reasons[key] ?? 0) + n;
}

/** This rank's share of the load: rate, workers, concurrency and request cap split across ranks. */
export function rankLoad(load: Load, ranks: number, rank: number) {
  return {
    workers: Math.max(1, rankShare(load.workers, ranks, rank)),
    concurrency: Math.max(1, rankShare(load.concurrency, ranks, rank)),
    rate: load.rate === undefined ? undefined : load.rate / ranks,
    maxRequests: load.maxRequests === undefined ? undefined : rankShare(load.maxRequests, ranks, rank),
    seed: load.seed + rank,
  };
}

/**
 * Connections for a pool serving `inflight` requests at once: twice as many, so
 * a worker that sends its next request the moment its last answer ends never
 * waits for that connection to be released (measured: 64 closed-loop workers
 * on 64 connections read 14 ms of aifb's own queueing into every TTFT).
 */
export const poolSize = (inflight: number): number => Math.max(2, 2 * inflight);

/** Requests this rank can have in flight: its closed-loop workers, or its open-loop concurrency cap. */
export function inflightLimit(load: Load, ranks: number, rank: number): number {
  const share = rankLoad(load, ranks, rank);
  return load.mode === 'closed' ? share.workers : share.concurrency;
}

export async function runLoad(opts: RunLoadOptions): Promise<LoadResults> {
  const { client, load, clock, signal } = opts;
  const share = rankLoad(load, opts.ranks, opts.rank);
  const warmupMs = load.warmup;
  const limits: StopLimits = { durationMs: load.duration, warmupMs, maxRequests: share.maxRequests };
  const drainTimeoutMs = opts.drainTimeoutMs ?? 10_000;

  const ops = operationMix(client.mix.operations, createRng(deriveSeed(share.seed, 1)));
  const sizes: WeightedChoice<number> | undefined =
    client.mix.sizes && client.mix.sizes.length > 0 ? sizeDistribution(client.mix.sizes, createRng(deriveSeed(share.seed, 2))) : undefined;

  const decls = opts.metrics ?? [];
  const countMetrics = new Set(decls.filter((m) => m.kind === 'count').map((m) => m.name));
  const shifted = new Set(decls.filter((m) => m.kind === 'timing' && m.sinceSend).map((m) => m.name));
  const histograms = new RankHistogramSet(client.operations, decls);
  const sloLimits = opts.slo ? requestLimits(opts.slo) : {};
  const judge = Object.keys(sloLimits).length > 0 ? new RequestJudge(sloLimits) : undefined;
  const stopper = judge && opts.slo?.earlyStop ? new EarlyStopper(judge.names, opts.slo.percentile, opts.slo.earlyStop) : undefined;
  const newTotals = (): OperationTotals => (judge ? { ...emptyTotals(), good: 0 } : emptyTotals());
  const operations: Record<string, OperationTotals> = {};
  for (const op of client.operations) operations[op] = newTotals();
  const series = new TimeSeries(opts.onRow ?? (() => {}), warmupMs);

  let dropped = 0;
  let maxSendLagMs = 0;
  let measuredSent = 0;
  let seq = 0;
  let inflight = 0;
  let closed = false;
  // Running counts for progress lines, per phase.
  const phase = { warmup: { requests: 0, errors: 0 }, measured: { requests: 0, errors: 0 } };

  const start = clock.now();
  const elapsed = () => clock.now() - start;

  let stop: StopReason | undefined;
  let failure: unknown;
  const stopCtl = new AbortController();
  let onStopped!: () => void;
  const stopped = new Promise<void>((r) => (onStopped = r));
  const setStop = (reason: StopReason) => {
    if (stop) return;
    stop = reason;
    stopCtl.abort();
    onStopped();
  };
  const check = (elapsedMs: number): boolean => {
    if (stop) return true;
    const reason = stopReason(limits, { elapsedMs, measuredSent, aborted: signal?.aborted ?? false });
    if (reason) setStop(reason);
    return stop !== undefined;
  };
  const onAbort = () => setStop('signal');
  signal?.addEventListener('abort', onAbort, { once: true });

  let onIdle: (() => void) | undefined;
  const idle = () => (inflight === 0 ? Promise.resolve() : new Promise<void>((r) => (onIdle = r)));

  const draw = (): Operation => ({ name: ops.draw(), size: sizes?.draw(), seq: seq++ });

  /** Adds one request's declared metrics to op's histograms and totals; `shiftMs` moves sinceSend timings to the intended send time. */
  const recordMetrics = (t: OperationTotals, name: string, sample: MetricSample, shiftMs: number): void => {
    for (const key in sample) {
      const recorder = histograms.metric(name, key);
      if (!recorder) continue; // undeclared: the client's bug, not the user's; dropping it keeps reports honest
      const value = sample[key];
      const shift = shifted.has(key) ? shiftMs : 0;
      if (typeof value === 'number') recorder.record(value + shift);
      else recorder.recordAll(value, shift);
      const m = (t.metrics[key] ??= { count: 0, sum: 0 });
      m.count = recorder.count;
      m.sum = recorder.sum;
    }
  };

  // Figures the client measured once in setup (load time, index build): recorded in every point, so
  // every report carries them, under operations of their own; no request or latency is counted.
  for (const f of client.setupFigures?.() ?? []) recordMetrics((operations[f.operation] ??= newTotals()), f.operation, f.metrics, 0);

  /** The request's worst (largest) value of a metric, shifted as it is recorded. */
  const worstOf = (sample: MetricSample | undefined, shiftMs: number): WorstOf => (name) => {
    const v = sample?.[name];
    if (v === undefined) return undefined;
    let worst = typeof v === 'number' ? v : -Infinity;
    if (typeof v !== 'number') for (const x of v) if (x > worst) worst = x;
    return worst === -Infinity ? undefined : worst + (shifted.has(name) ? shiftMs : 0);
  };

  /** Sends one request intended at absolute clock time `intended` and records it. */
  const issue = async (op: Operation, intended: number, measured: boolean, openLoop: boolean): Promise<void> => {
    inflight++;
    op.scheduled = intended;
    op.measured = measured;
    const sent = clock.now();
    if (openLoop && measured) {
      const lag = sent - intended;
      histograms.recordSendLag(lag);
      if (lag > maxSendLagMs) maxSendLagMs = lag;
    }
    let name = op.name;
    let sample: MetricSample | undefined;
    let error: string | undefined;
    try {
      const r = await client.execute(op);
      sample = r.metrics;
      if (r.as) name = r.as;
    } catch (e) {
      error = e instanceof Error ? e.message || e.name : String(e);
    }
    inflight--;
    if (closed) return; // abandoned after the drain timeout: results are already out
    const end = clock.now();
    const latency = end - intended;
    series.record(end - start, latency, error === undefined);
    if (sample) for (const key in sample) if (countMetrics.has(key)) series.count(key, sample[key]);
    const p = measured ? phase.measured : phase.warmup;
    p.requests++;
    if (error !== undefined) p.errors++;
    if (measured) {
      const t = (operations[name] ??= newTotals());
      t.requests++;
      if (error !== undefined) {
        t.errors++;
        countReason(t.errorsByReason, error);
        stopper?.record('failed');
      } else {
        histograms.record(name, latency);
        if (sample) recordMetrics(t, name, sample, sent - intended);
        if (judge) {
          const worst = worstOf(sample, sent - intended);
          if (judge.isGood(latency, worst)) t.good = (t.good ?? 0) + 1;
          stopper?.record((limit) => judge.isOver(limit, latency, worst));
        }
      }
    }
    if (inflight === 0 && onIdle) {
      onIdle();
      onIdle = undefined;
    }
  };

  const closedLoop = async (): Promise<void> => {
    let sinceYield = 0;
    for (;;) {
      const now = clock.now();
      if (check(now - start)) return;
      const measured = now - start >= warmupMs;
      if (measured) measuredSent++;
      await issue(draw(), now, measured, false);
      if (++sinceYield >= YIELD_EVERY) {
        sinceYield = 0;
        await clock.sleep(0);
      }
    }
  };

  const openLoop = async (): Promise<void> => {
    const arrivals = createArrivals(load, share.rate!, createRng(deriveSeed(share.seed, 0)));
    let sinceYield = 0;
    for (;;) {
      const t = arrivals.next();
      if (check(t)) break;
      const wait = start + t - clock.now();
      if (wait > 0) {
        sinceYield = 0;
        await clock.sleep(wait, stopCtl.signal);
        if (check(t)) break;
      } else if (++sinceYield >= YIELD_EVERY) {
        sinceYield = 0;
        await clock.sleep(0);
      }
      const measured = t >= warmupMs;
      // Drawn for every arrival, dropped or not, so a seed gives the same sequence.
      const op = draw();
      if (inflight >= share.concurrency) {
        // Never wait for a slot: waiting would hide the overload we are measuring.
        if (measured) dropped++;
        continue;
      }
      if (measured) measuredSent++;
      void issue(op, start + t, measured, true);
    }
    await idle();
  };

  const ticker = async (): Promise<void> => {
    let next = 1000;
    while (!stop) {
      await clock.sleep(start + next - clock.now(), stopCtl.signal);
      if (stop) break;
      const e = elapsed();
      series.advance(e);
      // Also the watchdog: a closed-loop worker stuck in a slow request cannot check the clock.
      check(e);
      // Once a second, not per request: a verdict costs a binomial sum, a stonewall a look at the shared folder.
      if (stopper?.settled()) setStop('settled');
      if (opts.stonewall?.()) setStop('stonewall');
      const row = series.lastRow();
      const inWarmup = e < warmupMs;
      const counts = inWarmup ? phase.warmup : phase.measured;
      opts.onProgress?.({
        elapsedMs: Math.round(e),
        requests: counts.requests,
        errors: counts.errors,
        rps: row?.requests ?? 0,
        p99Ms: row?.p99Ms ?? 0,
        inWarmup,
        // Cumulative, so a scrape or push that misses a second loses nothing.
        ...(inWarmup ? {} : { live: histograms.live(operations) }),
      });
      next = Math.max(next + 1000, (Math.floor(e / 1000) + 1) * 1000);
    }
  };

  const tick = ticker().catch((e) => {
    failure = e;
    setStop('error');
  });

  if (signal?.aborted) setStop('signal');
  const work =
    load.mode === 'closed'
      ? Promise.all(Array.from({ length: share.workers }, () => closedLoop())).then(() => undefined)
      : openLoop();

  const drainCtl = new AbortController();
  const drainTimer = stopped.then(() => clock.sleep(drainTimeoutMs, drainCtl.signal));
  await Promise.race([work, drainTimer]);
  drainCtl.abort();
  closed = true;
  const abandoned = inflight;
  signal?.removeEventListener('abort', onAbort);
  await tick;
  if (failure) throw failure;

  const endMs = elapsed();
  series.finish(endMs);

  const totals = { requests: 0, errors: 0, errorsByReason: {} as Record<string, number>, dropped, ...(judge ? { good: 0 } : {}) };
  for (const t of Object.values(operations)) {
    totals.requests += t.requests;
    totals.errors += t.errors;
    if (totals.good !== undefined) totals.good += t.good ?? 0;
    for (const [reason, n] of Object.entries(t.errorsByReason)) countReason(totals.errorsByReason, reason, n);
  }

  return {
    histograms,
    operations,
    totals,
    maxSendLagMs,
    stopReason: stop ?? 'error',
    measureStartMs: Math.min(warmupMs, endMs),
    endMs,
    measuredMs: Math.max(0, endMs - warmupMs),
    warmupMs: Math.min(warmupMs, endMs),
    abandoned,
    sent: measuredSent,
    ...(load.mode === 'open' ? { targetRate: share.rate! } : {}),
    ...(stopper ? { verdicts: stopper.verdicts() } : {}),
  };
}
