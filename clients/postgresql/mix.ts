// The guide's operation mix (select, insert, update, delete by primary key) on
// a table of the rank's own, preloaded with `rows` rows. Live ids stay (nearly)
// one range: inserts append above it, deletes take its oldest row, and selects
// and updates pick uniformly inside it, so memory stays constant however long
// the run. Every operation finds its row, also with many in flight: reads and
// updates skip ids whose insert is not acknowledged yet, and a delete passes
// over a row that a select or update has in flight (leaving a hole, closed
// when the delete that reaches it takes it).
import type { OperationMix, OperationResult } from '../client.js';
import type { PgClient } from './pg.js';
import { DEFAULT_MIX, MIX_OPERATIONS, type MixOperation } from './schema.js';
import { statementFailure } from './failure.js';
import { Statement, StatementError, type QueryMode } from './statement.js';
import type { Script } from './script.js';

/** Every row carries this many bytes of payload, inserted and preloaded alike. */
export const PAYLOAD_BYTES = 100;
const PAYLOAD = 'aifb'.padEnd(PAYLOAD_BYTES, '-');

export interface MixOptions {
  /** Already quoted, e.g. "aifb_bench_r0". */
  table: string;
  rows: number;
  operationMix?: Record<string, number>;
  mode: QueryMode;
  keep: boolean;
  timeoutMs: number;
}

export class MixScript implements Script {
  readonly operations = MIX_OPERATIONS;
  readonly mix: OperationMix;
  /** Live ids are [low, high) less `holes`: the next delete takes `low` (or the first id above it no one reads), the next insert gets `high`. */
  low = 1;
  high = 1;
  /** Ids above `low` already deleted (or being deleted). */
  private readonly holes = new Set<number>();
  /** Ids whose insert is in flight: not readable yet. */
  private readonly inserting = new Set<number>();
  /** Ids a select or update has in flight, and how many. */
  private readonly reading = new Map<number, number>();
  private readonly statements: Record<MixOperation, Statement>;
  // Which row is read does not change the load: the engine's seeded stream stays untouched.
  private readonly random = Math.random;

  constructor(private readonly o: MixOptions) {
    this.mix = { operations: { ...(o.operationMix ?? DEFAULT_MIX) } };
    const t = o.table;
    this.statements = {
      select: new Statement('select', `SELECT id, k, payload FROM ${t} WHERE id = $1`, o.mode),
      insert: new Statement('insert', `INSERT INTO ${t} (id, k, payload) VALUES ($1, $2, $3)`, o.mode),
      update: new Statement('update', `UPDATE ${t} SET k = k + 1 WHERE id = $1`, o.mode),
      delete: new Statement('delete', `DELETE FROM ${t} WHERE id = $1`, o.mode),
    };
  }

  /** Replaces the table (one left by an earlier attempt would skew the run) and loads it. */
  async setup(admin: PgClient): Promise<void> {
    const t = this.o.table;
    await admin.query({ text: `DROP TABLE IF EXISTS ${t}` });
    await admin.query({ text: `CREATE TABLE ${t} (id bigint PRIMARY KEY, k bigint NOT NULL, payload text NOT NULL)` });
    if (this.o.rows > 0) {
      await admin.query({ text: `INSERT INTO ${t} (id, k, payload) SELECT g, g, $1 FROM generate_series(1, $2::bigint) AS g`, values: [PAYLOAD, this.o.rows] });
    }
    // Statistics now, so the planner does not guess at an empty table while autovacuum catches up.
    await admin.query({ text: `ANALYZE ${t}` });
    this.low = 1;
    this.high = this.o.rows + 1;
    this.holes.clear();
    this.inserting.clear();
    this.reading.clear();
  }

  async execute(name: string, conn: PgClient): Promise<OperationResult> {
    const s = this.statements;
    const op = name as MixOperation;
    if (!(op in s)) throw new Error(`the postgresql mix has no operation "${name}"; use ${MIX_OPERATIONS.join(', ')}`);
    // An empty table has nothing to read, change or delete: the request inserts instead.
    if (op === 'insert') return this.insert(conn);
    const id = op === 'delete' ? this.takeOldest() : this.pickLive();
    if (id === undefined) return { ...(await this.insert(conn)), as: 'insert' };
    if (op === 'delete') {
      // Held in `holes` until acknowledged, so no read picks it meanwhile; then closed if `low` reached it.
      try {
        return await this.run(s.delete, conn, [id]);
      } finally {
        this.closeHoles();
      }
    }
    this.reading.set(id, (this.reading.get(id) ?? 0) + 1);
    try {
      return await this.run(s[op], conn, [id]);
    } finally {
      const n = this.reading.get(id)! - 1;
      if (n === 0) this.reading.delete(id);
      else this.reading.set(id, n);
    }
  }

  /** The readable end: ids from here on are being inserted, or not yet. */
  private readableHigh(): number {
    let h = this.high;
    for (const id of this.inserting) if (id < h) h = id;
    return h;
  }

  /** A live, readable id, uniformly; undefined when there is none. */
  private pickLive(): number | undefined {
    const high = this.readableHigh();
    for (let i = 0; i < 32 && this.low < high; i++) {
      const id = this.low + Math.floor(this.random() * (high - this.low));
      if (!this.holes.has(id)) return id;
    }
    return undefined;
  }

  /** The oldest readable id no select or update has in flight, marked deleted; undefined when there is none. */
  private takeOldest(): number | undefined {
    const high = this.readableHigh();
    for (let id = this.low; id < high; id++) {
      if (this.holes.has(id) || this.reading.has(id)) continue;
      this.holes.add(id);
      return id;
    }
    return undefined;
  }

  /** Moves `low` past deleted ids. */
  private closeHoles(): void {
    while (this.holes.has(this.low)) this.holes.delete(this.low++);
  }

  async teardown(admin: PgClient): Promise<void> {
    if (!this.o.keep) await admin.query({ text: `DROP TABLE IF EXISTS ${this.o.table}` });
  }

  private async insert(conn: PgClient): Promise<OperationResult> {
    const id = this.high++;
    this.inserting.add(id);
    try {
      return await this.run(this.statements.insert, conn, [id, id, PAYLOAD]);
    } finally {
      this.inserting.delete(id);
    }
  }

  private async run(s: Statement, conn: PgClient, values: (number | string)[]): Promise<OperationResult> {
    try {
      const { rows } = await s.run(conn, values);
      return { metrics: { rows } };
    } catch (e) {
      throw new StatementError(statementFailure(s.label, e, this.o.timeoutMs), e);
    }
  }
}
