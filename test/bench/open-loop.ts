// Benchmark (not a test): open-loop accuracy of the engine (issue 13, row 2).
// The http workload offers 1,000, 5,000 and 10,000 requests/s to the bench's
// loopback server (test/bench/bench-server.ts) for a few seconds each; the row
// says how much of the rate was sent, how late (send lag from the intended
// time), and the generator verdict every open-loop run now carries
// (api/generator.ts: at least 99% sent, send-lag p99 at most 1 ms).
import { cpus } from 'node:os';
import { checkGenerator } from '../../api/generator.js';
import { Load } from '../../api/schemas.js';
import { systemClock } from '../../clients/engine/clock.js';
import { poolSize, runLoad } from '../../clients/engine/engine.js';
import { percentileMs } from '../../clients/engine/histogram.js';
import { HttpClient } from '../../clients/http/client.js';
import { http } from '../../clients/http/index.js';
import { HttpWorkload } from '../../clients/http/schema.js';
import { startServer } from './bench-server.js';

export interface OpenLoopOptions {
  rates: number[];
  seconds: number;
  /** load.concurrency: arrivals beyond this many in flight are dropped. */
  concurrency: number;
}

export const DEFAULTS: OpenLoopOptions = { rates: [1000, 5000, 10_000], seconds: 5, concurrency: 256 };

export interface OpenLoopRow {
  rate: number;
  achievedShare: number;
  lagP50Ms: number;
  lagP99Ms: number;
  dropped: number;
  keptUp: boolean;
}

export async function measureOpenLoop(o: OpenLoopOptions = DEFAULTS): Promise<OpenLoopRow[]> {
  const server = await startServer();
  const client = new HttpClient(HttpWorkload.parse({ type: 'http', path: '/' }), { service: { scheme: 'http', host: '127.0.0.1', port: server.port }, connections: poolSize(o.concurrency) });
  await client.setup();
  try {
    const rows: OpenLoopRow[] = [];
    for (const rate of o.rates) {
      const load = Load.parse({ mode: 'open', rate, concurrency: o.concurrency, duration: `${o.seconds}s`, warmup: '1s' });
      const r = await runLoad({ client, metrics: http.metrics, load, ranks: 1, rank: 0, clock: systemClock });
      const lagP99Ms = percentileMs(r.histograms.sendLag, 99);
      const g = checkGenerator({ targetRate: rate, sent: r.sent, measuredS: r.measuredMs / 1000, sendLagP99Ms: lagP99Ms, dropped: r.totals.dropped });
      rows.push({ rate, achievedShare: g.achievedRate / rate, lagP50Ms: percentileMs(r.histograms.sendLag, 50), lagP99Ms, dropped: r.totals.dropped, keptUp: g.keptUp });
    }
    return rows;
  } finally {
    await client.teardown();
    server.child.kill();
  }
}

export async function main(o: OpenLoopOptions = DEFAULTS): Promise<void> {
  console.log(`open loop: the http workload at ${o.rates.join(', ')} req/s, ${o.seconds} s each after a 1 s warmup, concurrency ${o.concurrency}, against one Node server process on loopback`);
  console.log(`machine: ${cpus().length} cores, Node ${process.version}`);
  const rows = await measureOpenLoop(o);
  console.log('TARGET   SENT/TARGET  LAG_P50_MS  LAG_P99_MS  DROPPED  KEPT_UP');
  for (const r of rows) {
    console.log(
      `${String(r.rate).padStart(6)}  ${r.achievedShare.toFixed(4).padStart(11)}  ${r.lagP50Ms.toFixed(3).padStart(10)}  ${r.lagP99Ms.toFixed(3).padStart(10)}  ${String(r.dropped).padStart(7)}  ${r.keptUp ? 'yes' : 'NO'}`,
    );
  }
  console.log('goal: sent within 1% of the target and send-lag p99 under 1 ms at 1,000 and 5,000 req/s');
}
