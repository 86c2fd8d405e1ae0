// The guide's operation mix (select, insert, update, delete by primary key) on
// a table of the rank's own, preloaded with `rows` rows. Live ids stay one
// contiguous range: inserts append above it, deletes take its oldest row, and
// selects and updates pick uniformly inside it, so every operation finds a row
// and memory stays constant however long the run.
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
  /** Live ids are [low, high): the next delete takes `low`, the next insert gets `high`. */
  low = 1;
  high = 1;
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
  }

  async execute(name: string, conn: PgClient): Promise<OperationResult> {
    const s = this.statements;
    const op = name as MixOperation;
    if (!(op in s)) throw new Error(`the postgresql mix has no operation "${name}"; use ${MIX_OPERATIONS.join(', ')}`);
    // An empty table has nothing to read, change or delete: the request inserts instead.
    if (op !== 'insert' && this.low >= this.high) return { ...(await this.insert(conn)), as: 'insert' };
    if (op === 'insert') return this.insert(conn);
    const id = op === 'delete' ? this.low++ : this.low + Math.floor(this.random() * (this.high - this.low));
    return this.run(s[op], conn, [id]);
  }

  async teardown(admin: PgClient): Promise<void> {
    if (!this.o.keep) await admin.query({ text: `DROP TABLE IF EXISTS ${this.o.table}` });
  }

  private insert(conn: PgClient): Promise<OperationResult> {
    const id = this.high++;
    return this.run(this.statements.insert, conn, [id, id, PAYLOAD]);
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
