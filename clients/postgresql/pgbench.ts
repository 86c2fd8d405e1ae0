// pgbench's built-in scripts, tpcb-like and select-only, with pgbench's own
// statements and random ranges (`pgbench --show-script=NAME`), on pgbench's
// tables made as `pgbench -i -s SCALE` makes them, so a result can be set
// beside pgbench's on the same server. One request is one transaction; each
// statement's time is a metric, as pgbench -r lists them.
import type { OperationMix, OperationResult } from '../client.js';
import { TPCB_STATEMENTS, type TpcbStatement } from './pgbench-sql.js';
import { connectionLost, isServerError, statementFailure } from './failure.js';
import type { PgClient } from './pg.js';
import { Statement, StatementError, type QueryMode } from './statement.js';
import type { Script } from './script.js';

export type PgbenchScriptName = 'tpcb-like' | 'select-only';

/** Rows per unit of scale, as pgbench has them. */
const BRANCHES = 1;
const TELLERS = 10;
const ACCOUNTS = 100_000;
/** pgbench makes aid a bigint from this scale on (SCALE_32BIT_THRESHOLD). */
const BIGINT_SCALE = 20_000;
const TABLES = ['pgbench_accounts', 'pgbench_branches', 'pgbench_history', 'pgbench_tellers'] as const;

/** Ranks of one run share pgbench's tables; each holds this advisory lock shared until its teardown. */
const RANKS_LOCK = 0x61696662; // "aifb"
/** How long ranks other than 0 wait for rank 0 to make the tables, and rank 0 for them to finish before it drops them. */
export const RANK_WAIT_MS = 600_000;
const POLL_MS = 200;

export interface PgbenchOptions {
  script: PgbenchScriptName;
  /** Make the tables at setup (rank 0), or use those `pgbench -i` made. */
  initialize: boolean;
  /** With initialize; otherwise read from pgbench_branches. */
  scale: number;
  keep: boolean;
  mode: QueryMode;
  timeoutMs: number;
  runId: string;
  rank: number;
  ranks: number;
  /** Tests shorten the wait between ranks. */
  rankWaitMs?: number;
}

/** pgbench's random(lb, ub): uniform over the integers lb..ub, both included. */
const between = (lb: number, ub: number): number => lb + Math.floor(Math.random() * (ub - lb + 1));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class PgbenchScript implements Script {
  readonly operations: readonly string[];
  readonly mix: OperationMix;
  /** pgbench's :scale for this run: as given, or as pgbench_branches says. */
  scale: number;
  private readonly tpcb: Record<TpcbStatement, Statement>;
  private readonly marker: string;

  constructor(private readonly o: PgbenchOptions) {
    this.operations = [o.script];
    this.mix = { operations: { [o.script]: 1 } };
    this.scale = o.scale;
    this.tpcb = Object.fromEntries(Object.entries(TPCB_STATEMENTS).map(([label, text]) => [label, new Statement(label, text, o.mode)])) as Record<TpcbStatement, Statement>;
    this.marker = `aifb run ${o.runId}: tables ready`;
  }

  async setup(admin: PgClient): Promise<void> {
    const { rank, ranks } = this.o;
    if (ranks > 1 && this.o.initialize) await admin.query({ text: 'SELECT pg_advisory_lock_shared($1)', values: [RANKS_LOCK] });
    if (this.o.initialize && rank === 0) await this.initialize(admin);
    else if (this.o.initialize) await this.waitForRankZero(admin);
    else this.scale = await this.scaleOf(admin);
    if (rank === 0) {
      // What pgbench does before every run unless -n: tidy the small tables, empty the history.
      await admin.query({ text: 'VACUUM pgbench_branches' });
      await admin.query({ text: 'VACUUM pgbench_tellers' });
      await admin.query({ text: 'TRUNCATE pgbench_history' });
    }
    if (this.o.initialize && rank === 0) await admin.query({ text: `COMMENT ON TABLE pgbench_branches IS '${this.marker}'` });
  }

  async execute(name: string, conn: PgClient): Promise<OperationResult> {
    if (name !== this.o.script) throw new Error(`this postgresql workload runs pgbench's ${this.o.script}, not "${name}"`);
    const aid = between(1, ACCOUNTS * this.scale);
    if (this.o.script === 'select-only') {
      const s = this.tpcb.selectAccounts;
      try {
        const r = await s.run(conn, [aid]);
        return { metrics: { selectAccounts: r.ms, rows: r.rows } };
      } catch (e) {
        throw new StatementError(statementFailure(s.label, e, this.o.timeoutMs), e);
      }
    }
    return this.tpcbLike(conn, aid);
  }

  async teardown(admin: PgClient): Promise<void> {
    if (!this.o.initialize || this.o.keep || this.o.rank !== 0) return;
    if (this.o.ranks > 1) {
      // The other ranks hold the lock shared until their teardown: the exclusive one waits for the last of them.
      await admin.query({ text: 'SELECT pg_advisory_unlock_shared($1)', values: [RANKS_LOCK] });
      await admin.query({ text: `SET lock_timeout = ${this.o.rankWaitMs ?? RANK_WAIT_MS}` });
      try {
        await admin.query({ text: 'SELECT pg_advisory_lock($1)', values: [RANKS_LOCK] });
      } catch (e) {
        if ((e as { code?: string }).code !== '55P03') throw e;
        throw new Error(`other ranks still used pgbench's tables ${Math.round((this.o.rankWaitMs ?? RANK_WAIT_MS) / 1000)} s after rank 0 ended, so they were left in place; drop them by hand or set workload.keep: true`);
      }
    }
    await admin.query({ text: `DROP TABLE IF EXISTS ${TABLES.join(', ')}` });
  }

  /** As `pgbench -i -s SCALE` does with its default steps, the data made by the server (-I dtGvp). */
  private async initialize(admin: PgClient): Promise<void> {
    const n = this.scale;
    const id = n >= BIGINT_SCALE ? 'bigint' : 'int';
    const run = (text: string) => admin.query({ text });
    await run(`DROP TABLE IF EXISTS ${TABLES.join(', ')}`);
    await run(`CREATE TABLE pgbench_history (tid int, bid int, aid ${id}, delta int, mtime timestamp, filler char(22))`);
    await run('CREATE TABLE pgbench_tellers (tid int not null, bid int, tbalance int, filler char(84)) WITH (fillfactor=100)');
    await run(`CREATE TABLE pgbench_accounts (aid ${id} not null, bid int, abalance int, filler char(84)) WITH (fillfactor=100)`);
    await run('CREATE TABLE pgbench_branches (bid int not null, bbalance int, filler char(88)) WITH (fillfactor=100)');
    await run(`INSERT INTO pgbench_branches (bid, bbalance) SELECT bid, 0 FROM generate_series(1, ${BRANCHES * n}) AS bid`);
    await run(`INSERT INTO pgbench_tellers (tid, bid, tbalance) SELECT tid, (tid - 1) / ${TELLERS} + 1, 0 FROM generate_series(1, ${TELLERS * n}) AS tid`);
    await run(`INSERT INTO pgbench_accounts (aid, bid, abalance, filler) SELECT aid, (aid - 1) / ${ACCOUNTS} + 1, 0, '' FROM generate_series(1, ${ACCOUNTS * n}::bigint) AS aid`);
    for (const t of TABLES) await run(`VACUUM ANALYZE ${t}`);
    await run('ALTER TABLE pgbench_branches ADD PRIMARY KEY (bid)');
    await run('ALTER TABLE pgbench_tellers ADD PRIMARY KEY (tid)');
    await run('ALTER TABLE pgbench_accounts ADD PRIMARY KEY (aid)');
  }

  /** Ranks other than 0: until rank 0 has marked the tables made for this run. */
  private async waitForRankZero(admin: PgClient): Promise<void> {
    const waitMs = this.o.rankWaitMs ?? RANK_WAIT_MS;
    const deadline = Date.now() + waitMs;
    for (;;) {
      const r = await admin.query({ text: "SELECT obj_description(to_regclass('pgbench_branches'), 'pg_class')", rowMode: 'array' });
      if (r.rows[0]?.[0] === this.marker) return;
      if (Date.now() > deadline) {
        throw new Error(`rank ${this.o.rank} waited ${Math.round(waitMs / 1000)} s for rank 0 to make pgbench's tables; see rank 0's log for why it did not`);
      }
      await sleep(POLL_MS);
    }
  }

  /** pgbench's own way: the scale is the number of branches. */
  private async scaleOf(admin: PgClient): Promise<number> {
    let branches: number;
    try {
      const r = await admin.query({ text: 'SELECT count(*)::int FROM pgbench_branches', rowMode: 'array' });
      branches = Number(r.rows[0]?.[0] ?? 0);
      for (const t of ['pgbench_accounts', 'pgbench_tellers', 'pgbench_history']) await admin.query({ text: `SELECT 1 FROM ${t} LIMIT 0` });
    } catch (e) {
      if ((e as { code?: string }).code !== '42P01') throw e;
      throw new Error(`${(e as Error).message} (SQLSTATE 42P01): pgbench's tables are missing; make them with \`pgbench -i -s SCALE\`, or set workload.initialize: true`);
    }
    if (branches === 0) throw new Error('pgbench_branches is empty, so there is no scale to run at; make the tables with `pgbench -i -s SCALE`, or set workload.initialize: true');
    return branches;
  }

  private async tpcbLike(conn: PgClient, aid: number): Promise<OperationResult> {
    const n = this.scale;
    const bid = between(1, BRANCHES * n);
    const tid = between(1, TELLERS * n);
    const delta = between(-5000, 5000);
    const s = this.tpcb;
    const metrics: Record<string, number> = {};
    let rows = 0;
    let current: Statement = s.begin;
    const step = async (st: Statement, values?: (number | string)[]) => {
      current = st;
      const r = await st.run(conn, values);
      metrics[st.label] = r.ms;
      rows += r.rows;
    };
    try {
      await step(s.begin);
      await step(s.updateAccounts, [delta, aid]);
      await step(s.selectAccounts, [aid]);
      await step(s.updateTellers, [delta, tid]);
      await step(s.updateBranches, [delta, bid]);
      await step(s.insertHistory, [tid, bid, aid, delta]);
      await step(s.end);
    } catch (e) {
      // A failed statement leaves the transaction aborted: end it so the connection serves the next request.
      if (current !== s.begin && isServerError(e) && !connectionLost(e)) await conn.query({ text: 'ROLLBACK' }).catch(() => {});
      throw new StatementError(statementFailure(current.label, e, this.o.timeoutMs), e);
    }
    // BEGIN and END change no rows: rows counts what the five statements between them touched.
    metrics.rows = rows;
    return { metrics };
  }
}
