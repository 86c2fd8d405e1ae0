// Benchmark (not a test): aifb's select-only against pgbench's own
// (`pgbench -S -c N -T T`) on one PostgreSQL started here, with the same
// client count, in both query modes pgbench users compare (simple, its
// default, and prepared). Between them, node-postgres alone (N connections,
// each querying in a loop): the floor of any Node.js client, so the ratios
// split what the driver costs from what aifb's engine and client add. Runs go
// pgbench, aifb, pg, pg, aifb, pgbench so that whatever else the machine does
// falls on all alike. On a small machine the client's CPU is taken from the
// server's, so client CPU per transaction is the steadier figure.
import { execFile } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Load } from '../../api/schemas.js';
import { systemClock } from '../../clients/engine/clock.js';
import { runLoad } from '../../clients/engine/engine.js';
import { meanMs, percentileMs } from '../../clients/engine/histogram.js';
import { PostgresqlClient } from '../../clients/postgresql/client.js';
import { POSTGRESQL_METRICS } from '../../clients/postgresql/index.js';
import { loadPg, type PgClient } from '../../clients/postgresql/pg.js';
import { TPCB_STATEMENTS } from '../../clients/postgresql/pgbench-sql.js';
import { PostgresqlWorkload } from '../../clients/postgresql/schema.js';
import { Statement } from '../../clients/postgresql/statement.js';
import { startPostgres, type PgServer } from '../unit/clients/postgresql/server.js';

const run = promisify(execFile);

/** pgbench -c: connections, one transaction in flight on each; aifb: closed-loop workers. */
const CLIENTS = 8;
/** pgbench -T, and aifb's duration, seconds per run. */
const SECONDS = 8;
/** pgbench -s: 1,000,000 accounts (about 130 MB), within shared_buffers after the first pass. */
const SCALE = 10;
const MODES = ['simple', 'prepared'] as const;
type Mode = (typeof MODES)[number];

const TOOLS = ['pgbench', 'aifb', 'pg'] as const;
type Tool = (typeof TOOLS)[number];

export interface Sample {
  tool: Tool;
  mode: Mode;
  tps: number;
  latencyAvgMs: number;
  /** Opening one connection, ms: pgbench's "initial connection time" over its clients; aifb's connect metric. */
  connectMs: number;
  /** The client process's CPU per transaction, ms. */
  clientCpuMsPerTx: number;
}

/** `pgbench -S`, its CPU taken from the shell's `times` (user and system of its children). */
async function pgbench(pg: PgServer, mode: Mode): Promise<Sample> {
  const args = ['-S', '-n', '-M', mode, '-c', String(CLIENTS), '-j', '1', '-T', String(SECONDS), '-h', pg.host, '-p', String(pg.port), '-U', pg.user, 'postgres'];
  const script = `"$0" "$@" && times`;
  const { stdout } = await run('bash', ['-c', script, join(pg.bin, 'pgbench'), ...args], { env: { ...process.env, PGPASSWORD: pg.password } });
  const num = (re: RegExp) => {
    const m = re.exec(stdout);
    if (!m) throw new Error(`pgbench printed no ${re}: ${stdout}`);
    return Number(m[1]);
  };
  const tps = num(/tps = ([\d.]+)/);
  const [, children] = stdout.trim().split('\n').slice(-2);
  const cpu = [...children.matchAll(/(\d+)m([\d.]+)s/g)].reduce((s, m) => s + (Number(m[1]) * 60 + Number(m[2])) * 1000, 0);
  return {
    tool: 'pgbench',
    mode,
    tps,
    latencyAvgMs: num(/latency average = ([\d.]+) ms/),
    // pgbench (one thread) opens its clients one after another and prints the total.
    connectMs: num(/initial connection time = ([\d.]+) ms/) / CLIENTS,
    clientCpuMsPerTx: cpu / (tps * SECONDS),
  };
}

/** aifb's select-only with the same clients, in this process: the engine and the postgresql client as a runner has them. */
async function aifb(pg: PgServer, mode: Mode): Promise<Sample> {
  const c = new PostgresqlClient(PostgresqlWorkload.parse({ type: 'postgresql', script: 'select-only', initialize: false, queryMode: mode }), {
    service: { scheme: 'postgresql', host: pg.host, port: pg.port, database: 'postgres', credentials: { user: pg.user } },
    password: pg.password,
    inflight: CLIENTS,
    runId: 'bench',
    rank: 0,
    ranks: 1,
    warmupMs: 0,
  });
  await c.setup();
  try {
    const cpu0 = process.cpuUsage();
    const r = await runLoad({ client: c, metrics: POSTGRESQL_METRICS, load: Load.parse({ mode: 'closed', workers: CLIENTS, duration: `${SECONDS}s` }), ranks: 1, rank: 0, clock: systemClock });
    const cpu = process.cpuUsage(cpu0);
    if (r.totals.errors > 0) throw new Error(`aifb: ${r.totals.errors} errors: ${JSON.stringify(r.totals.errorsByReason)}`);
    const tx = r.totals.requests;
    const h = r.histograms.forOp('select-only');
    return {
      tool: 'aifb',
      mode,
      tps: tx / (r.measuredMs / 1000),
      latencyAvgMs: meanMs(h),
      connectMs: c.connectMs.reduce((a, b) => a + b, 0) / c.connectMs.length,
      clientCpuMsPerTx: (cpu.user + cpu.system) / 1000 / tx,
    };
  } finally {
    await c.teardown();
  }
}

/** node-postgres alone: the statement aifb sends in this mode, on CLIENTS connections, each in a loop. */
async function nodePostgres(pg: PgServer, mode: Mode): Promise<Sample> {
  const { Client } = await loadPg();
  const clients: PgClient[] = [];
  let connectMs = 0;
  for (let i = 0; i < CLIENTS; i++) {
    const c = new Client({ host: pg.host, port: pg.port, user: pg.user, password: pg.password, database: 'postgres', connectionTimeoutMillis: 10_000, statement_timeout: 0, application_name: 'bench-pg' });
    const t = performance.now();
    await c.connect();
    connectMs += performance.now() - t;
    clients.push(c);
  }
  const s = new Statement('selectAccounts', TPCB_STATEMENTS.selectAccounts, mode);
  let tx = 0;
  let busyMs = 0;
  const cpu0 = process.cpuUsage();
  const started = performance.now();
  const end = started + SECONDS * 1000;
  await Promise.all(
    clients.map(async (c) => {
      while (performance.now() < end) {
        // Awaited first: `busyMs += await ...` would read busyMs before the await and lose the other loops' additions.
        const r = await s.run(c, [1 + Math.floor(Math.random() * 100_000 * SCALE)]);
        busyMs += r.ms;
        tx++;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpu0);
  await Promise.all(clients.map((c) => c.end()));
  return { tool: 'pg', mode, tps: tx / seconds, latencyAvgMs: busyMs / tx, connectMs: connectMs / CLIENTS, clientCpuMsPerTx: (cpu.user + cpu.system) / 1000 / tx };
}

const mean = (xs: Sample[], k: keyof Sample) => xs.reduce((s, x) => s + (x[k] as number), 0) / xs.length;

/** Prints the table and the ratios; returns aifb/pgbench tps per mode. */
export async function main(): Promise<{ samples: Sample[]; ratios: Record<Mode, number> }> {
  const pg = await startPostgres({ settings: { shared_buffers: '256MB' } });
  try {
    // pgbench's tables made by aifb as `pgbench -i -s SCALE` would, kept for every run below.
    const init = new PostgresqlClient(PostgresqlWorkload.parse({ type: 'postgresql', script: 'select-only', scale: SCALE, keep: true }), {
      service: { scheme: 'postgresql', host: pg.host, port: pg.port, database: 'postgres', credentials: { user: pg.user } },
      password: pg.password,
      inflight: 1,
      runId: 'bench-init',
      rank: 0,
      ranks: 1,
      warmupMs: 0,
    });
    await init.setup();
    await init.teardown();
    // Both read the table into the cache once before anything counts.
    await pg.sql('SELECT count(*) FROM pgbench_accounts');

    console.log(`PostgreSQL select-only (pgbench -S), scale ${SCALE}, ${CLIENTS} clients, ${SECONDS} s per run; ${cpus().length} cores, load average ${loadavg()[0].toFixed(1)}`);
    console.log(`$ ${join(pg.bin, 'pgbench')} -S -n -M MODE -c ${CLIENTS} -j 1 -T ${SECONDS}   beside   aifb workload { type: postgresql, script: select-only, queryMode: MODE }, closed loop, ${CLIENTS} workers   beside   node-postgres alone (pg), ${CLIENTS} connections in a loop`);
    console.log('MODE      TOOL     TPS       LAT_AVG_MS  CONNECT_MS  CLIENT_CPU_MS/TX');
    const samples: Sample[] = [];
    for (const mode of MODES) {
      for (const tool of ['pgbench', 'aifb', 'pg', 'pg', 'aifb', 'pgbench'] as const) {
        const s = tool === 'pgbench' ? await pgbench(pg, mode) : tool === 'aifb' ? await aifb(pg, mode) : await nodePostgres(pg, mode);
        samples.push(s);
        console.log(
          `${mode.padEnd(8)}  ${tool.padEnd(7)}  ${s.tps.toFixed(0).padStart(8)}  ${s.latencyAvgMs.toFixed(3).padStart(10)}  ${s.connectMs.toFixed(2).padStart(10)}  ${s.clientCpuMsPerTx.toFixed(4).padStart(16)}`,
        );
      }
    }
    const ratios = {} as Record<Mode, number>;
    for (const mode of MODES) {
      const of = (tool: Tool) => samples.filter((s) => s.mode === mode && s.tool === tool);
      const ratio = (a: Tool, b: Tool, k: keyof Sample) => mean(of(a), k) / mean(of(b), k);
      ratios[mode] = ratio('aifb', 'pgbench', 'tps');
      for (const [a, b] of [['aifb', 'pgbench'], ['aifb', 'pg']] as const) {
        console.log(
          `ratio ${a}/${b} (${mode}): tps x${ratio(a, b, 'tps').toFixed(2)}, latency average x${ratio(a, b, 'latencyAvgMs').toFixed(2)}, client CPU per transaction x${ratio(a, b, 'clientCpuMsPerTx').toFixed(2)}`,
        );
      }
    }
    return { samples, ratios };
  } finally {
    await pg.stop();
  }
}
