// What the client runs: the guide's mix (mix.ts) or one of pgbench's built-in
// scripts (pgbench.ts). The client owns the connections; a script owns its
// tables and statements.
import type { OperationMix, OperationResult } from '../client.js';
import type { PgClient } from './pg.js';

export interface Script {
  readonly operations: readonly string[];
  readonly mix: OperationMix;
  /** Creates or checks the tables, on the client's own connection (no statement timeout). */
  setup(admin: PgClient): Promise<void>;
  /** One request on `conn`; throws a StatementError whose message is the reason. */
  execute(name: string, conn: PgClient): Promise<OperationResult>;
  /** Drops what setup created, unless told to keep it. */
  teardown(admin: PgClient): Promise<void>;
}
