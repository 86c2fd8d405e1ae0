// One SQL statement as it goes on the wire in each of pgbench's query modes
// (-M): prepared once per connection under a name, sent unnamed with its
// values (extended), or as plain text with the values in it (simple).
import type { QUERY_MODES } from './schema.js';
import type { PgClient, PgQuery } from './pg.js';

export type QueryMode = (typeof QUERY_MODES)[number];
export type Value = number | string;

/** Thrown by a statement during the run: `message` is the reason reports count; `cause` is pg's own error. */
export class StatementError extends Error {
  constructor(
    message: string,
    override readonly cause: unknown,
  ) {
    super(message);
    this.name = 'StatementError';
  }
}

const literal = (v: Value): string => (typeof v === 'number' ? String(v) : `'${v.replace(/'/g, "''")}'`);

export class Statement {
  private readonly parts: string[];

  /**
   * @param label the statement's name in reasons and metrics (`updateAccounts`)
   * @param text SQL with $1, $2... placeholders
   */
  constructor(
    readonly label: string,
    readonly text: string,
    private readonly mode: QueryMode,
  ) {
    // Split once: simple mode puts values between these pieces on every call.
    this.parts = text.split(/\$(\d+)/);
  }

  query(values: readonly Value[] = []): PgQuery {
    // Rows as arrays: nothing here reads columns by name, and pg builds arrays faster.
    if (this.mode === 'prepared') return { name: `aifb_${this.label}`, text: this.text, values, rowMode: 'array' };
    if (this.mode === 'extended') return { text: this.text, values, rowMode: 'array' };
    if (values.length === 0) return { text: this.text, rowMode: 'array' };
    let sql = '';
    for (let i = 0; i < this.parts.length; i++) sql += i % 2 === 0 ? this.parts[i] : literal(values[Number(this.parts[i]) - 1]);
    return { text: sql, rowMode: 'array' };
  }

  /** Runs it on `conn`; resolves to the rows it returned or changed and how long it took (ms). */
  async run(conn: PgClient, values?: readonly Value[]): Promise<{ rows: number; ms: number }> {
    const q = this.query(values);
    const started = performance.now();
    const r = await conn.query(q);
    return { rows: r.rowCount ?? 0, ms: performance.now() - started };
  }
}
