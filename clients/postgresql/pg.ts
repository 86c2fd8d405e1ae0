// The part of node-postgres (`pg`) this workload uses, typed here: the
// project carries no @types/pg, and these few calls are all it needs.

/** What pg's Client accepts; only the fields set here. */
export interface PgConfig {
  host: string;
  port: number;
  database: string;
  user: string;
  password?: string;
  /** Gives up opening a connection after this long. */
  connectionTimeoutMillis: number;
  /** Sent at startup: the server cancels a statement that runs longer (ms). */
  statement_timeout: number;
  application_name: string;
}

export interface PgQuery {
  /** A named query is prepared once per connection (pg keeps the name). */
  name?: string;
  text: string;
  values?: readonly unknown[];
  rowMode?: 'array';
}

export interface PgResult {
  rowCount: number | null;
  rows: unknown[][];
}

export interface PgClient {
  connect(): Promise<void>;
  query(q: PgQuery): Promise<PgResult>;
  end(): Promise<void>;
  on(event: 'error', listener: (e: Error) => void): void;
  on(event: 'end', listener: () => void): void;
  /** pg's wire connection: its socket, to drop when the server does not answer the goodbye. */
  connection?: { stream?: { destroy(): void } };
}

/** An error pg raises: the server's SQLSTATE in `code`, or a socket's errno code (ECONNREFUSED). */
export interface PgError extends Error {
  code?: string;
  detail?: string;
  hint?: string;
}

interface PgModule {
  Client: new (config: PgConfig) => PgClient;
  escapeIdentifier(name: string): string;
}

// A specifier typed as string keeps tsc from looking for pg's missing declarations.
const PG: string = 'pg';
let loaded: Promise<PgModule> | undefined;

/** pg, imported on first use (the controller never loads client code). */
export function loadPg(): Promise<PgModule> {
  loaded ??= import(PG).then((m: { default?: PgModule } & PgModule) => m.default ?? m);
  return loaded;
}
