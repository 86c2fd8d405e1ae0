// pgbench's built-in scripts against a real PostgreSQL started here: tables
// made as `pgbench -i` makes them (checked against pgbench's own), tpcb-like
// keeping every balance consistent with the history, select-only writing
// nothing, the random ranges, several ranks sharing the tables, and cleanup.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../../../clients/engine/clock.js';
import { runLoad } from '../../../../clients/engine/engine.js';
import { POSTGRESQL_METRICS } from '../../../../clients/postgresql/index.js';
import { TPCB_STATEMENTS } from '../../../../clients/postgresql/pgbench-sql.js';
import { client, closedLoad, num, serviceOf } from './fixtures.js';
import { loggedOnce } from './logged.js';
import { startPostgres, type PgServer } from './server.js';

const run = promisify(execFile);
let pg: PgServer;

beforeAll(async () => {
  pg = await startPostgres({ settings: { log_statement: 'all' } });
  // pgbench's own tables, made by pgbench itself, to compare ours with and to run on.
  await pg.sql('CREATE DATABASE reference');
  await pg.sql('CREATE DATABASE ours');
  await run(join(pg.bin, 'pgbench'), ['-i', '-q', '-s', '2', '-h', pg.host, '-p', String(pg.port), '-U', pg.user, 'reference'], { env: { ...process.env, PGPASSWORD: pg.password } });
});
afterAll(async () => {
  await pg?.stop();
});

const on = (database: string) => ({ service: serviceOf(pg, { database }) });
const tables = async (database: string) =>
  (await pg.sql("SELECT relname FROM pg_class WHERE relname LIKE 'pgbench_%' AND relkind = 'r' ORDER BY 1", [], database)).map((r) => r[0]);

/** What `pgbench -i` decides about the tables: columns, types, nullability, storage options, keys. */
const SHAPE = `
  SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, c.reloptions::text,
         (SELECT string_agg(pg_get_indexdef(i.indexrelid), '; ') FROM pg_index i WHERE i.indrelid = c.oid)
  FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid
  WHERE c.relname LIKE 'pgbench_%' AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped
  ORDER BY c.relname, a.attnum`;
/** What it puts in them. */
const CONTENT = `
  SELECT (SELECT row(count(*), sum(aid), sum(bid), sum(abalance), count(filler), max(filler), max(octet_length(filler)))::text FROM pgbench_accounts),
         (SELECT row(count(*), sum(tid), sum(bid), sum(tbalance), count(filler))::text FROM pgbench_tellers),
         (SELECT row(count(*), sum(bid), sum(bbalance), count(filler))::text FROM pgbench_branches),
         (SELECT count(*) FROM pgbench_history)`;

describe('pgbench tables', () => {
  it('are made at setup as `pgbench -i -s 2` makes them, and dropped at teardown', async () => {
    const c = client(pg, { script: 'select-only', scale: 2 }, on('ours'));
    await c.setup();
    try {
      expect(await pg.sql(SHAPE, [], 'ours')).toEqual(await pg.sql(SHAPE, [], 'reference'));
      expect(await pg.sql(CONTENT, [], 'ours')).toEqual(await pg.sql(CONTENT, [], 'reference'));
    } finally {
      await c.teardown();
    }
    expect(await tables('ours')).toEqual([]);
  });

  it('stay with keep: true', async () => {
    const c = client(pg, { script: 'select-only', keep: true }, on('ours'));
    await c.setup();
    await c.teardown();
    expect(await tables('ours')).toEqual(['pgbench_accounts', 'pgbench_branches', 'pgbench_history', 'pgbench_tellers']);
    expect(num(await pg.sql('SELECT count(*) FROM pgbench_branches', [], 'ours'))).toBe(1);
    await pg.sql('DROP TABLE pgbench_accounts, pgbench_branches, pgbench_history, pgbench_tellers', [], 'ours');
  });
});

describe('tpcb-like', () => {
  it('runs pgbench\'s transaction: every balance equals the sum of its history, within pgbench\'s random ranges', async () => {
    const c = client(pg, { script: 'tpcb-like', scale: 3 }, { ...on('ours'), inflight: 4 });
    await c.setup();
    try {
      const r = await runLoad({ client: c, metrics: POSTGRESQL_METRICS, load: closedLoad(4, 600), ranks: 1, rank: 0, clock: systemClock });
      const t = r.operations['tpcb-like'];
      expect(r.totals).toMatchObject({ requests: 600, errors: 0 });
      const q = async (sql: string) => num(await pg.sql(sql, [], 'ours'));

      // One history row per transaction, and every sum agrees.
      expect(await q('SELECT count(*) FROM pgbench_history')).toBe(600);
      const deltas = await q('SELECT sum(delta) FROM pgbench_history');
      expect(await q('SELECT sum(abalance) FROM pgbench_accounts')).toBe(deltas);
      expect(await q('SELECT sum(tbalance) FROM pgbench_tellers')).toBe(deltas);
      expect(await q('SELECT sum(bbalance) FROM pgbench_branches')).toBe(deltas);
      // Row by row: each account, teller and branch changed by exactly its history's deltas.
      for (const [table, key, balance] of [['pgbench_accounts', 'aid', 'abalance'], ['pgbench_tellers', 'tid', 'tbalance'], ['pgbench_branches', 'bid', 'bbalance']]) {
        const wrong = await q(`SELECT count(*) FROM ${table} x LEFT JOIN (SELECT ${key}, sum(delta) AS s FROM pgbench_history GROUP BY ${key}) h USING (${key}) WHERE x.${balance} <> coalesce(h.s, 0)`);
        expect(wrong, `${table} rows whose ${balance} is not their history's sum`).toBe(0);
      }

      // pgbench's ranges at scale 3: aid 1..300000, bid 1..3, tid 1..30, delta -5000..5000; 600 draws reach each top third.
      const [range] = await pg.sql('SELECT min(aid), max(aid), min(bid), max(bid), min(tid), max(tid), min(delta), max(delta) FROM pgbench_history', [], 'ours');
      const [minAid, maxAid, minBid, maxBid, minTid, maxTid, minDelta, maxDelta] = range.map(Number);
      expect(minAid).toBeGreaterThanOrEqual(1);
      expect(maxAid).toBeLessThanOrEqual(300_000);
      expect(maxAid).toBeGreaterThan(200_000);
      expect([minBid, maxBid]).toEqual([1, 3]);
      expect(minTid).toBeGreaterThanOrEqual(1);
      expect(maxTid).toBeLessThanOrEqual(30);
      expect(maxTid).toBeGreaterThan(20);
      expect(minDelta).toBeGreaterThanOrEqual(-5000);
      expect(maxDelta).toBeLessThanOrEqual(5000);
      expect(minDelta).toBeLessThan(-2500);
      expect(maxDelta).toBeGreaterThan(2500);

      // Each of the seven statements timed once per transaction; rows: the five between BEGIN and END.
      for (const name of Object.keys(TPCB_STATEMENTS)) expect(t.metrics[name]?.count, name).toBe(600);
      expect(t.metrics.rows).toEqual({ count: 600, sum: 5 * 600 });
      // A statement cannot take longer than the transaction around it.
      const statementsMs = Object.keys(TPCB_STATEMENTS).reduce((s, name) => s + t.metrics[name].sum, 0);
      expect(statementsMs).toBeLessThanOrEqual(r.histograms.forOp('tpcb-like').mean * 600 / 1000 + 1);
    } finally {
      await c.teardown();
    }
  });

  it('rolls a failed transaction back, so the connection serves the next one', async () => {
    const c = client(pg, { script: 'tpcb-like', keep: true }, { ...on('ours'), inflight: 1 });
    await c.setup();
    try {
      await pg.sql('ALTER TABLE pgbench_history ADD CONSTRAINT small_delta CHECK (delta BETWEEN -1 AND 1)', [], 'ours');
      const failed = await c.execute({ name: 'tpcb-like', seq: 0 }).catch((e: Error) => e.message);
      expect(failed).toBe('insertHistory: new row for relation "pgbench_history" violates check constraint "small_delta" (SQLSTATE 23514)');
      // Rolled back: the account, teller and branch updates before the failed insert left nothing.
      expect(num(await pg.sql('SELECT sum(abs(abalance)) + (SELECT sum(abs(tbalance)) FROM pgbench_tellers) FROM pgbench_accounts', [], 'ours'))).toBe(0);
      await pg.sql('ALTER TABLE pgbench_history DROP CONSTRAINT small_delta', [], 'ours');
      await expect(c.execute({ name: 'tpcb-like', seq: 1 })).resolves.toMatchObject({ metrics: { rows: 5 } });
    } finally {
      await c.teardown();
      await pg.sql('DROP TABLE pgbench_accounts, pgbench_branches, pgbench_history, pgbench_tellers', [], 'ours');
    }
  });
});

describe('select-only on tables `pgbench -i` made', () => {
  it('reads the scale from pgbench_branches, empties the history as pgbench does, selects within range and writes nothing', async () => {
    await pg.sql("INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (1, 1, 1, 7, now())", [], 'reference');
    const c = client(pg, { script: 'select-only', initialize: false, queryMode: 'simple' }, { ...on('reference'), inflight: 2 });
    const from = pg.log().length;
    await c.setup();
    try {
      expect(num(await pg.sql('SELECT count(*) FROM pgbench_history', [], 'reference'))).toBe(0);
      const r = await runLoad({ client: c, metrics: POSTGRESQL_METRICS, load: closedLoad(2, 400), ranks: 1, rank: 0, clock: systemClock });
      const t = r.operations['select-only'];
      expect(r.totals).toMatchObject({ requests: 400, errors: 0 });
      // Every aid drawn exists: one row each.
      expect(t.metrics.rows).toEqual({ count: 400, sum: 400 });
      expect(t.metrics.selectAccounts.count).toBe(400);
      // The aids as the server saw them: 1..200000 at scale 2, reaching past the first scale's 100000.
      const selects = /statement: SELECT abalance FROM pgbench_accounts WHERE aid = (\d+)/g;
      const aids = [...(await loggedOnce(pg, from, selects, 400)).matchAll(selects)].map((m) => Number(m[1]));
      expect(Math.min(...aids)).toBeGreaterThanOrEqual(1);
      expect(Math.max(...aids)).toBeLessThanOrEqual(200_000);
      expect(Math.max(...aids)).toBeGreaterThan(150_000);
      expect(num(await pg.sql('SELECT sum(abs(abalance)) FROM pgbench_accounts', [], 'reference'))).toBe(0);
      expect(num(await pg.sql('SELECT count(*) FROM pgbench_history', [], 'reference'))).toBe(0);
    } finally {
      await c.teardown();
    }
    // Not made by this workload, so not dropped by it.
    expect(await tables('reference')).toEqual(['pgbench_accounts', 'pgbench_branches', 'pgbench_history', 'pgbench_tellers']);
  });
});

describe('several ranks on one set of pgbench tables', () => {
  it('rank 0 makes them while the others wait, and drops them only after the last rank is done', async () => {
    const opts = { ...on('ours'), ranks: 2, rankWaitMs: 20_000, runId: 'two-ranks' };
    const r0 = client(pg, { script: 'tpcb-like' }, { ...opts, rank: 0 });
    const r1 = client(pg, { script: 'tpcb-like' }, { ...opts, rank: 1 });
    const order: string[] = [];
    // Rank 1 first, and stale tables of another run present: it must wait for rank 0's, not take these.
    await pg.sql('CREATE TABLE pgbench_branches (bid int)', [], 'ours');
    await pg.sql("COMMENT ON TABLE pgbench_branches IS 'aifb run older-run: tables ready'", [], 'ours');
    const set1 = r1.setup().then(() => order.push('rank 1 set up'));
    await new Promise((r) => setTimeout(r, 500));
    order.push('rank 0 starts');
    await r0.setup().then(() => order.push('rank 0 set up'));
    await set1;
    expect(order).toEqual(['rank 0 starts', 'rank 0 set up', 'rank 1 set up']);

    await r0.execute({ name: 'tpcb-like', seq: 0 });
    await r1.execute({ name: 'tpcb-like', seq: 0 });
    expect(num(await pg.sql('SELECT count(*) FROM pgbench_history', [], 'ours'))).toBe(2);

    const down0 = r0.teardown().then(() => order.push('rank 0 torn down'));
    await new Promise((r) => setTimeout(r, 500));
    // Rank 1 still runs: its tables are still there.
    expect(await r1.execute({ name: 'tpcb-like', seq: 1 })).toMatchObject({ metrics: { rows: 5 } });
    expect(await tables('ours')).toHaveLength(4);
    // Rank 0 may finish first once rank 1 has closed its session (which frees the lock before
    // rank 1's own end() resolves), but never before rank 1 began its teardown.
    order.push('rank 1 tears down');
    await Promise.all([r1.teardown(), down0]);
    expect(order.slice(3)).toEqual(['rank 1 tears down', 'rank 0 torn down']);
    expect(await tables('ours')).toEqual([]);
  });
});
