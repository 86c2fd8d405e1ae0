// Benchmark (not a test): coordinated omission (issue 13, row 3), as wrk2's
// README shows it with Ctrl-Z. The bench's loopback server
// (test/bench/bench-server.ts) is stopped once for a second in the middle of the
// measured window, under aifb's open loop at a fixed rate and under its closed
// loop. The open loop times every request from its intended send time
// (clients/engine/engine.ts, issue(): latency = end - intended), so the
// arrivals due during the stall carry their wait and p99 shows it; a closed
// loop sends nothing while its few requests wait, so only those few see the
// stall and p99 stays where it was.
import type { ChildProcess } from 'node:child_process';
import { cpus } from 'node:os';
import { Load } from '../../api/schemas.js';
import { systemClock } from '../../clients/engine/clock.js';
import { poolSize, runLoad, type LoadResults } from '../../clients/engine/engine.js';
import { maxMs, percentileMs } from '../../clients/engine/histogram.js';
import { HttpClient } from '../../clients/http/client.js';
import { http } from '../../clients/http/index.js';
import { HttpWorkload } from '../../clients/http/schema.js';
import { startServer } from './bench-server.js';

export interface CoordinatedOmissionOptions {
  /** Measured window of each run, after a 1 s warmup. */
  seconds: number;
  /** How long the server is stopped, once, 40% into the measured window. */
  stallMs: number;
  /** Open loop: requests per second. */
  rate: number;
  /** Closed loop: workers. */
  workers: number;
}

export const DEFAULTS: CoordinatedOmissionOptions = { seconds: 10, stallMs: 1000, rate: 200, workers: 4 };

const WARMUP_MS = 1000;

export interface CoordinatedOmissionRow {
  mode: 'open' | 'closed';
  requests: number;
  dropped: number;
  sendLagP99Ms: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/** Stops `child` (SIGSTOP: its sockets keep accepting in the kernel, nothing is answered) for `forMs`, `atMs` from now. */
async function stallOnce(child: ChildProcess, atMs: number, forMs: number): Promise<void> {
  await systemClock.sleep(atMs);
  child.kill('SIGSTOP');
  await systemClock.sleep(forMs);
  child.kill('SIGCONT');
}

function row(mode: CoordinatedOmissionRow['mode'], r: LoadResults): CoordinatedOmissionRow {
  if (r.totals.errors > 0) throw new Error(`${mode} loop: ${r.totals.errors} errors: ${JSON.stringify(r.totals.errorsByReason)}`);
  const h = r.histograms.all;
  return {
    mode,
    requests: r.totals.requests,
    dropped: r.totals.dropped,
    sendLagP99Ms: percentileMs(r.histograms.sendLag, 99),
    p50Ms: percentileMs(h, 50),
    p99Ms: percentileMs(h, 99),
    maxMs: maxMs(h),
  };
}

/** One run of `load` against a fresh server that stalls once; a fresh server so each run's stall is its own. */
async function measureOne(load: Load, o: CoordinatedOmissionOptions): Promise<LoadResults> {
  const server = await startServer();
  // Open loop: room for every arrival of the stall, so none is dropped and all are timed.
  const client = new HttpClient(HttpWorkload.parse({ type: 'http', path: '/' }), { service: { scheme: 'http', host: '127.0.0.1', port: server.port }, connections: poolSize(load.mode === 'open' ? load.concurrency : load.workers) });
  await client.setup();
  try {
    const stall = stallOnce(server.child, WARMUP_MS + 0.4 * o.seconds * 1000, o.stallMs);
    const r = await runLoad({ client, metrics: http.metrics, load, ranks: 1, rank: 0, clock: systemClock });
    await stall;
    return r;
  } finally {
    await client.teardown();
    server.child.kill('SIGKILL');
  }
}

export async function measureCoordinatedOmission(o: CoordinatedOmissionOptions = DEFAULTS): Promise<{ open: CoordinatedOmissionRow; closed: CoordinatedOmissionRow }> {
  const timing = { duration: `${o.seconds}s`, warmup: `${WARMUP_MS}ms` };
  const concurrency = Math.ceil((2 * o.rate * o.stallMs) / 1000) + 64;
  const open = await measureOne(Load.parse({ mode: 'open', rate: o.rate, concurrency, ...timing }), o);
  const closed = await measureOne(Load.parse({ mode: 'closed', workers: o.workers, ...timing }), o);
  return { open: row('open', open), closed: row('closed', closed) };
}

const ms = (x: number) => x.toFixed(3).padStart(9);

export async function main(o: CoordinatedOmissionOptions = DEFAULTS): Promise<void> {
  console.log(
    `coordinated omission: the http workload against one Node server process on loopback, stopped (SIGSTOP, wrk2's Ctrl-Z) for ${o.stallMs} ms once, ${+(0.4 * o.seconds).toFixed(1)} s into a ${o.seconds} s measured window after a 1 s warmup`,
  );
  console.log(`machine: ${cpus().length} cores, Node ${process.version}`);
  const { open, closed } = await measureCoordinatedOmission(o);
  console.log('MODE                REQUESTS  DROPPED  LAG_P99_MS     P50_MS     P99_MS     MAX_MS');
  const line = (label: string, r: CoordinatedOmissionRow, lag: string) =>
    console.log(`${label.padEnd(18)}  ${String(r.requests).padStart(8)}  ${String(r.dropped).padStart(7)}  ${lag.padStart(10)}  ${ms(r.p50Ms)}  ${ms(r.p99Ms)}  ${ms(r.maxMs)}`);
  line(`open ${o.rate} req/s`, open, open.sendLagP99Ms.toFixed(3));
  line(`closed ${o.workers} workers`, closed, '-');
  const share = o.stallMs / (o.seconds * 1000);
  console.log(
    `expected (wrk2): open loop times each request from its intended send time, so the ${Math.round((o.rate * o.stallMs) / 1000)} arrivals due in the stall wait ${o.stallMs}..0 ms: ` +
      `${(100 * share).toFixed(0)}% of requests, p99 about ${(o.stallMs * (1 - 0.01 / share)).toFixed(0)} ms; closed loop sends nothing while its ${o.workers} requests wait, ` +
      `so only those see the stall: p99 near p50, max about ${o.stallMs} ms`,
  );
  console.log(`ratio open/closed p99: x${(open.p99Ms / closed.p99Ms).toFixed(0)}`);
}
