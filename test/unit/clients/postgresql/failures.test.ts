// What the postgresql workload says when something is wrong, against a real
// PostgreSQL started here and sockets that are not one: at setup (a wrong
// password, nothing listening, no answer, no such database, too many
// connections, pgbench's tables missing), during the run (a missing table, a
// statement past the timeout, a dropped connection), and from the runner
// process's point of view (exit code 3 with the reason).
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RUNNER_EXIT, type RankDone, type RankSummary } from '../../../../api/runner-contract.js';
import { Load } from '../../../../api/schemas.js';
import { systemClock } from '../../../../clients/engine/clock.js';
import { loadPg, type PgClient } from '../../../../clients/postgresql/pg.js';
import { Workload } from '../../../../clients/registry.js';
import { runRunner } from '../../../../clients/runner/run.js';
import { encodeSpec } from '../../../../clients/runner/spec.js';
import { client, num, serviceOf } from './fixtures.js';
import { startPostgres, type PgServer } from './server.js';

let pg: PgServer;
let tmp: string;
beforeAll(async () => {
  pg = await startPostgres();
  tmp = await mkdtemp(join(tmpdir(), 'aifb-pg-failures-'));
});
afterAll(async () => {
  await pg?.stop();
  await rm(tmp, { recursive: true, force: true });
});

const setupError = async (c: ReturnType<typeof client>): Promise<string> => {
  try {
    await c.setup();
  } catch (e) {
    return (e as Error).message;
  } finally {
    await c.teardown();
  }
  throw new Error('setup succeeded');
};

/** A TCP server on loopback that does `onConnection` to every client. */
async function tcp(onConnection: (s: import('node:net').Socket) => void): Promise<{ port: number; server: Server }> {
  const server = createServer(onConnection);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { port: (server.address() as { port: number }).port, server };
}

const sessions = async () => num(await pg.sql("SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'aifb %'"));

describe('postgresql setup failures', () => {
  it('a wrong password: says so, naming the user and where the password came from, never the password', async () => {
    const message = await setupError(client(pg, {}, { password: 'not-the-password' }));
    expect(message).toBe(
      `PostgreSQL at 127.0.0.1:${pg.port} refused the password of user "postgres" (password authentication failed for user "postgres"; SQLSTATE 28P01); check the password the Service's credentials.password points to (file /run/secrets/pg-password)`,
    );
    expect(message).not.toContain('not-the-password');
  });

  it('no password where the server wants one: says which field to set', async () => {
    const c = client(pg, {}, { password: undefined, service: serviceOf(pg, { credentials: { user: 'postgres' } }) });
    expect(await setupError(c)).toBe(`PostgreSQL at 127.0.0.1:${pg.port} asks user "postgres" for a password and none is set; give the Service credentials.password ({ file: ... } or { env: ... })`);
  });

  it('nothing listening at the port: connection refused, check host and port', async () => {
    const { port, server } = await tcp(() => {});
    await new Promise((r) => server.close(r));
    const message = await setupError(client(pg, {}, { service: serviceOf(pg, { port }) }));
    expect(message).toBe(`cannot connect to PostgreSQL at 127.0.0.1:${port}: connection refused (nothing listens there); check that the Service is running and its host and port are right`);
  });

  it('a host that does not answer: gives up after workload.timeout', async () => {
    const { port, server } = await tcp(() => {}); // accepts, then says nothing
    try {
      const started = Date.now();
      const message = await setupError(client(pg, { timeout: '300ms' }, { service: serviceOf(pg, { port }) }));
      expect(message).toBe(`no answer from PostgreSQL at 127.0.0.1:${port} within 300 ms (workload.timeout); check that the host is reachable from the runner's node and the port is right`);
      expect(Date.now() - started).toBeLessThan(3000);
    } finally {
      server.close();
    }
  });

  it('something that is not PostgreSQL: the connection closed before it answered', async () => {
    const { port, server } = await tcp((s) => s.end('HTTP/1.1 400 Bad Request\r\n\r\n'));
    try {
      expect(await setupError(client(pg, {}, { service: serviceOf(pg, { port }) }))).toMatch(/^cannot connect to PostgreSQL at 127\.0\.0\.1:\d+: the connection closed before PostgreSQL answered; check that a PostgreSQL server listens/);
    } finally {
      server.close();
    }
  });

  it('a database that does not exist: names it and the field', async () => {
    const message = await setupError(client(pg, {}, { service: serviceOf(pg, { database: 'nosuchdb' }) }));
    expect(message).toBe(`database "nosuchdb" does not exist at PostgreSQL at 127.0.0.1:${pg.port} (SQLSTATE 3D000); set the Service's spec.database to one that exists, or create it`);
  });

  it('more connections than the server allows: says what to lower, and teardown leaves nothing behind', async () => {
    await pg.sql("CREATE ROLE limited LOGIN PASSWORD 'limited-pw' CONNECTION LIMIT 3");
    await pg.sql('GRANT CREATE ON SCHEMA public TO limited');
    const c = client(pg, { table: 'limited' }, { inflight: 8, password: 'limited-pw', service: serviceOf(pg, { credentials: { user: 'limited', password: { env: 'PG_LIMITED' } } }) });
    const message = await setupError(c);
    expect(message).toBe(
      `PostgreSQL at 127.0.0.1:${pg.port} refused another connection: too many connections for role "limited" (SQLSTATE 53300); lower load.workers or load.concurrency, set workload.connections lower, or raise the server's max_connections`,
    );
    expect(num(await pg.sql("SELECT count(*) FROM pg_class WHERE relname = 'limited_r0'"))).toBe(0);
    expect(await sessions()).toBe(0);
  });

  it('a user that may not create the table: names the user, the database and what to grant', async () => {
    await pg.sql("CREATE ROLE reader LOGIN PASSWORD 'reader-pw'");
    const c = client(pg, {}, { password: 'reader-pw', service: serviceOf(pg, { credentials: { user: 'reader', password: { env: 'PG_READER' } } }) });
    expect(await setupError(c)).toBe(
      'preparing the tables as user "reader" in database "postgres" failed: permission denied for schema public (SQLSTATE 42501); grant user "reader" what it lacks (CREATE on the schema, to make the tables), or connect as a user that has it',
    );
  });

  it("pgbench's tables missing with initialize: false: says how to make them", async () => {
    const message = await setupError(client(pg, { script: 'tpcb-like', initialize: false }));
    expect(message).toBe('relation "pgbench_branches" does not exist (SQLSTATE 42P01): pgbench\'s tables are missing; make them with `pgbench -i -s SCALE`, or set workload.initialize: true');
  });
});

describe('postgresql failures during the run', () => {
  it('a table gone mid-run: one stable reason for every request', async () => {
    const c = client(pg, { rows: 10 });
    await c.setup();
    try {
      await pg.sql('DROP TABLE aifb_bench_r0');
      const reasons = new Set<string>();
      for (let i = 0; i < 6; i++) reasons.add(await c.execute({ name: ['select', 'update'][i % 2], seq: i }).then(() => 'ok', (e: Error) => e.message.replace(/^\w+: /, '')));
      expect([...reasons]).toEqual(['relation "aifb_bench_r0" does not exist (SQLSTATE 42P01)']);
      await expect(c.execute({ name: 'select', seq: 9 })).rejects.toThrow(/^select: relation "aifb_bench_r0" does not exist \(SQLSTATE 42P01\)$/);
    } finally {
      await c.teardown();
    }
  });

  it('a statement past workload.timeout: canceled by the server, the same reason each time, and the connection still serves', async () => {
    const { Client } = await loadPg();
    const c = client(pg, { rows: 10, timeout: '200ms' }, { inflight: 1 });
    await c.setup();
    const locker: PgClient = new Client({ host: pg.host, port: pg.port, user: pg.user, password: pg.password, database: 'postgres', connectionTimeoutMillis: 5000, statement_timeout: 0, application_name: 'locker' });
    await locker.connect();
    try {
      await locker.query({ text: 'BEGIN' });
      await locker.query({ text: 'LOCK TABLE aifb_bench_r0 IN ACCESS EXCLUSIVE MODE' });
      for (let i = 0; i < 2; i++) {
        const started = performance.now();
        await expect(c.execute({ name: 'select', seq: i })).rejects.toThrow("select: canceled after 200 ms (workload.timeout, the server's statement_timeout; SQLSTATE 57014)");
        expect(performance.now() - started).toBeGreaterThanOrEqual(190);
      }
      await locker.query({ text: 'ROLLBACK' });
      await expect(c.execute({ name: 'select', seq: 3 })).resolves.toMatchObject({ metrics: { rows: 1 } });
    } finally {
      await locker.end();
      await c.teardown();
    }
  });

  it('connections the server ended: the request in flight fails as lost, the next ones reconnect, teardown still cleans up', async () => {
    const { Client } = await loadPg();
    const c = client(pg, { rows: 10, table: 'lost' }, { inflight: 2 });
    await c.setup();
    const locker: PgClient = new Client({ host: pg.host, port: pg.port, user: pg.user, password: pg.password, database: 'postgres', connectionTimeoutMillis: 5000, statement_timeout: 0, application_name: 'locker' });
    await locker.connect();
    try {
      const before = (await pg.sql("SELECT pid FROM pg_stat_activity WHERE application_name = 'aifb run-1 r0'")).map((r) => r[0]);
      expect(before).toHaveLength(3);
      // Hold a request in the server, then end every session of the client's.
      await locker.query({ text: 'BEGIN' });
      await locker.query({ text: 'LOCK TABLE lost_r0 IN ACCESS EXCLUSIVE MODE' });
      const inFlight = c.execute({ name: 'select', seq: 0 }).catch((e: Error) => e.message);
      await new Promise((r) => setTimeout(r, 200));
      await pg.sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'aifb run-1 r0'");
      expect(await inFlight).toBe('select: terminating connection due to administrator command (SQLSTATE 57P01)');
      await locker.query({ text: 'ROLLBACK' });
      await new Promise((r) => setTimeout(r, 200));
      for (let i = 1; i <= 4; i++) await expect(c.execute({ name: 'select', seq: i })).resolves.toMatchObject({ metrics: { rows: 1 } });
      const after = (await pg.sql("SELECT pid FROM pg_stat_activity WHERE application_name = 'aifb run-1 r0'")).map((r) => r[0]);
      expect(after.filter((p) => before.includes(p))).toEqual([]);
    } finally {
      await locker.end();
      await c.teardown();
    }
    expect(num(await pg.sql("SELECT count(*) FROM pg_class WHERE relname = 'lost_r0'"))).toBe(0);
  });
});

describe('the runner with a postgresql workload', () => {
  async function runnerRun(name: string, password: string): Promise<{ code: number; dir: string; warnings: string[] }> {
    const dir = join(tmp, name);
    const passwordFile = join(tmp, `${name}.password`);
    await writeFile(passwordFile, `${password}\n`, { mode: 0o600 });
    const spec = {
      benchmark: 'pg',
      runId: name,
      ranks: 1,
      workload: Workload.parse({ type: 'postgresql', rows: 100 }),
      load: Load.parse({ mode: 'closed', workers: 2, duration: '800ms', warmup: '200ms' }),
      service: serviceOf(pg, { credentials: { user: pg.user, password: { file: passwordFile } } }),
    };
    const specPath = join(tmp, `${name}.json`);
    await writeFile(specPath, JSON.stringify(encodeSpec(spec as never)));
    const warnings: string[] = [];
    const code = await runRunner({ specPath, outDir: dir, rank: 0, clock: systemClock, signal: new AbortController().signal, emit: () => {}, warn: (m) => warnings.push(m) });
    return { code, dir, warnings };
  }

  it('a wrong password fails setup: exit code 3 with the reason in the done file, which the controller shows as RunnerFailed', async () => {
    const { code, dir } = await runnerRun('bad-password', 'wrong-one');
    expect(code).toBe(RUNNER_EXIT.setup);
    const done = JSON.parse(await readFile(join(dir, 'rank-0.done.json'), 'utf8')) as RankDone;
    expect(done.reason).toBe(
      `postgresql setup failed: PostgreSQL at 127.0.0.1:${pg.port} refused the password of user "postgres" (password authentication failed for user "postgres"; SQLSTATE 28P01); check the password the Service's credentials.password points to (file ${join(tmp, 'bad-password.password')})`,
    );
    expect(JSON.stringify(done)).not.toContain('wrong-one');
  });

  it('the right password: runs, reports rows and connect among its metrics, and drops its table', async () => {
    const { code, dir, warnings } = await runnerRun('good', pg.password);
    expect(warnings).toEqual([]);
    expect(code).toBe(RUNNER_EXIT.ok);
    const summary = JSON.parse(await readFile(join(dir, 'rank-0.summary.json'), 'utf8')) as RankSummary;
    const ops = Object.values(summary.operations);
    expect(summary.totals.errors).toBe(0);
    expect(ops.reduce((s, o) => s + (o.metrics.rows?.count ?? 0), 0)).toBe(summary.totals.requests);
    expect(ops.reduce((s, o) => s + (o.metrics.connect?.count ?? 0), 0)).toBe(2);
    expect(num(await pg.sql("SELECT count(*) FROM pg_class WHERE relname = 'aifb_bench_r0'"))).toBe(0);
  });
});
