// The guide's mix against a real PostgreSQL started here: the table it loads,
// what each operation does to it, a whole run's counts, the query modes as the
// server saw them, the connection times, and cleanup.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../../../clients/engine/clock.js';
import { runLoad } from '../../../../clients/engine/engine.js';
import type { PostgresqlClient } from '../../../../clients/postgresql/client.js';
import { POSTGRESQL_METRICS } from '../../../../clients/postgresql/index.js';
import { Statement } from '../../../../clients/postgresql/statement.js';
import { client, closedLoad, num } from './fixtures.js';
import { loggedOnce } from './logged.js';
import { startPostgres, type PgServer } from './server.js';

let pg: PgServer;
beforeAll(async () => {
  // Every statement in the log: how the tests see which protocol a query mode used.
  pg = await startPostgres({ settings: { log_statement: 'all' } });
});
afterAll(async () => {
  await pg?.stop();
});

const tableExists = async (name: string) => (await pg.sql('SELECT to_regclass($1) IS NOT NULL', [name]))[0][0] === true;
const count = async (table: string) => num(await pg.sql(`SELECT count(*) FROM ${table}`));

async function withClient<T>(c: PostgresqlClient, fn: (c: PostgresqlClient) => Promise<T>): Promise<T> {
  await c.setup();
  try {
    return await fn(c);
  } finally {
    await c.teardown();
  }
}

describe('postgresql mix: its table', () => {
  it('loads `rows` rows into a table of the rank\'s own, opens the pool timed, and drops the table at teardown', async () => {
    const c = client(pg, { rows: 500 }, { rank: 2, inflight: 3 });
    await c.setup();
    try {
      expect(await count('aifb_bench_r2')).toBe(500);
      expect(num(await pg.sql('SELECT min(id) FROM aifb_bench_r2'))).toBe(1);
      expect(num(await pg.sql('SELECT max(id) FROM aifb_bench_r2'))).toBe(500);
      // One connection per request in flight, as pgbench -c, each timed apart from the run.
      expect(c.connections).toBe(3);
      expect(c.connectMs).toHaveLength(3);
      for (const ms of c.connectMs) expect(ms).toBeGreaterThan(0);
      const sessions = num(await pg.sql("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'aifb run-1 r2'"));
      expect(sessions).toBe(4); // the pool and the client's own connection for setup and teardown
    } finally {
      await c.teardown();
    }
    expect(await tableExists('aifb_bench_r2')).toBe(false);
    expect(num(await pg.sql("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'aifb run-1 r2'"))).toBe(0);
  });

  it('keeps the table with keep: true, and replaces one left from before at the next setup', async () => {
    await withClient(client(pg, { rows: 20, table: 'kept', keep: true }), async (c) => {
      await c.execute({ name: 'insert', seq: 0 });
    });
    expect(await count('kept_r0')).toBe(21);
    await withClient(client(pg, { rows: 5, table: 'kept' }), async () => {
      expect(await count('kept_r0')).toBe(5);
    });
    expect(await tableExists('kept_r0')).toBe(false);
  });

  it('sizes the pool from workload.connections when it is set', async () => {
    await withClient(client(pg, { rows: 1, connections: 5 }, { inflight: 64 }), async (c) => {
      expect(c.connections).toBe(5);
      expect(c.connectMs).toHaveLength(5);
    });
  });
});

describe('postgresql mix: each operation', () => {
  it('select reads one row, insert adds one, update changes one, delete removes the oldest', async () => {
    await withClient(client(pg, { rows: 10 }), async (c) => {
      const k = async () => num(await pg.sql('SELECT sum(k) FROM aifb_bench_r0'));
      const k0 = await k();

      expect(await c.execute({ name: 'select', seq: 0 })).toEqual({ metrics: { rows: 1, connect: c.connectMs } });
      expect(await count('aifb_bench_r0')).toBe(10);

      expect(await c.execute({ name: 'insert', seq: 1 })).toEqual({ metrics: { rows: 1 } });
      expect(await count('aifb_bench_r0')).toBe(11);
      expect(num(await pg.sql('SELECT max(id) FROM aifb_bench_r0'))).toBe(11);

      expect(await c.execute({ name: 'update', seq: 2 })).toEqual({ metrics: { rows: 1 } });
      expect(await k()).toBe(k0 + 11 + 1); // the inserted row's k is its id; the update added 1

      expect(await c.execute({ name: 'delete', seq: 3 })).toEqual({ metrics: { rows: 1 } });
      expect(await count('aifb_bench_r0')).toBe(10);
      expect(num(await pg.sql('SELECT min(id) FROM aifb_bench_r0'))).toBe(2);
    });
  });

  it('inserts instead when the table is empty, and says so', async () => {
    await withClient(client(pg, { rows: 0 }), async (c) => {
      for (const [seq, name] of ['select', 'update', 'delete'].entries()) {
        expect(await c.execute({ name, seq })).toMatchObject({ metrics: { rows: 1 }, as: 'insert' });
        await c.execute({ name: 'delete', seq });
      }
      expect(await count('aifb_bench_r0')).toBe(0);
    });
  });
});

describe('postgresql mix: a run', () => {
  it('draws operations by the weights, and the table changes by exactly what they did', async () => {
    await withClient(client(pg, { rows: 1000 }, { inflight: 4 }), async (c) => {
      const r = await runLoad({ client: c, metrics: POSTGRESQL_METRICS, load: closedLoad(4, 2000), ranks: 1, rank: 0, clock: systemClock });
      const ops = r.operations;
      expect(r.totals).toMatchObject({ requests: 2000, errors: 0 });
      // 2000 draws of 0.4/0.3/0.2/0.1: each count within about 4 standard deviations.
      expect(ops.select.requests).toBeGreaterThan(700);
      expect(ops.select.requests).toBeLessThan(900);
      expect(ops.insert.requests).toBeGreaterThan(520);
      expect(ops.insert.requests).toBeLessThan(680);
      expect(ops.update.requests).toBeGreaterThan(320);
      expect(ops.update.requests).toBeLessThan(480);
      expect(ops.delete.requests).toBeGreaterThan(130);
      expect(ops.delete.requests).toBeLessThan(270);
      // Every operation found its row: rows counted = requests, per operation.
      for (const op of ['select', 'insert', 'update', 'delete']) expect(ops[op].metrics.rows).toEqual({ count: ops[op].requests, sum: ops[op].requests });
      expect(await count('aifb_bench_r0')).toBe(1000 + ops.insert.requests - ops.delete.requests);
      // The oldest rows went first (passing over one a request of the 4 in flight was reading); inserted ids follow the preloaded ones.
      expect(num(await pg.sql('SELECT min(id) FROM aifb_bench_r0'))).toBeLessThanOrEqual(1 + ops.delete.requests);
      expect(num(await pg.sql('SELECT min(id) FROM aifb_bench_r0'))).toBeGreaterThan(1 + ops.delete.requests - 4);
      expect(num(await pg.sql('SELECT max(id) FROM aifb_bench_r0'))).toBe(1000 + ops.insert.requests);
      // Each update added 1 to one row's k (k starts as the id).
      expect(num(await pg.sql('SELECT sum(k - id) FROM aifb_bench_r0'))).toBeLessThanOrEqual(ops.update.requests);
      expect(num(await pg.sql('SELECT sum(k - id) FROM aifb_bench_r0'))).toBeGreaterThan(0);
    });
  });

  it('reports the connection times once, on the first request after the warmup, one sample per connection', async () => {
    await withClient(client(pg, { rows: 100 }, { inflight: 3, warmupMs: 200 }), async (c) => {
      const r = await runLoad({ client: c, metrics: POSTGRESQL_METRICS, load: closedLoad(3, 100_000, { duration: '600ms', warmup: '200ms' }), ranks: 1, rank: 0, clock: systemClock });
      const connect = Object.values(r.operations).flatMap((t) => (t.metrics.connect ? [t.metrics.connect] : []));
      expect(connect).toHaveLength(1);
      expect(connect[0].count).toBe(3);
      expect(connect[0].sum).toBeCloseTo(c.connectMs.reduce((a, b) => a + b, 0), 3);
    });
  });
});

describe('postgresql mix: query modes, as the server logged them', () => {
  it('prepared: a named statement, parsed once per connection and executed by name', async () => {
    const from = pg.log().length;
    await withClient(client(pg, { rows: 10, queryMode: 'prepared', table: 'qm_prepared', operationMix: { select: 1 } }, { inflight: 1 }), async (c) => {
      for (let i = 0; i < 5; i++) await c.execute({ name: 'select', seq: i });
    });
    const log = await loggedOnce(pg, from, /execute aifb_select: SELECT id, k, payload FROM "qm_prepared_r0" WHERE id = \$1/g, 5);
    expect(log).not.toMatch(/execute <unnamed>: SELECT id, k, payload/);
  });

  it('extended: an unnamed statement with its values apart', async () => {
    const from = pg.log().length;
    await withClient(client(pg, { rows: 10, queryMode: 'extended', table: 'qm_extended', operationMix: { select: 1 } }, { inflight: 1 }), async (c) => {
      for (let i = 0; i < 5; i++) await c.execute({ name: 'select', seq: i });
    });
    await loggedOnce(pg, from, /execute <unnamed>: SELECT id, k, payload FROM "qm_extended_r0" WHERE id = \$1/g, 5);
  });

  it('simple: plain SQL with the values written in', async () => {
    const from = pg.log().length;
    await withClient(client(pg, { rows: 10, queryMode: 'simple', table: 'qm_simple', keep: true }, { inflight: 1 }), async (c) => {
      for (let i = 0; i < 8; i++) await c.execute({ name: ['select', 'insert', 'update', 'delete'][i % 4], seq: i });
    });
    const log = await loggedOnce(pg, from, /statement: INSERT INTO "qm_simple_r0" \(id, k, payload\) VALUES \(11, 11, 'aifb-+'\)/g, 1);
    expect(log).toMatch(/statement: SELECT id, k, payload FROM "qm_simple_r0" WHERE id = \d+\n/);
    // Only setup's own preload goes as an extended query.
    expect(log).not.toMatch(/execute [^:]*: (SELECT id|UPDATE|DELETE|INSERT INTO "qm_simple_r0" \(id, k, payload\) VALUES)/);
    expect(await count('qm_simple_r0')).toBe(10);
    await pg.sql('DROP TABLE qm_simple_r0');
  });

  it('simple: a string value is written as a literal the server reads back unchanged', async () => {
    const q = new Statement('echo', 'SELECT $1::text, $2::int', 'simple').query(["it's a 'quote'", 42]);
    expect(q).toEqual({ text: "SELECT 'it''s a ''quote'''::text, 42::int", rowMode: 'array' });
    expect(await pg.sql(q.text)).toEqual([["it's a 'quote'", 42]]);
  });
});
