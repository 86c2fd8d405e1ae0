// Why a PostgreSQL connection or statement failed, in the words the reports
// count it under: the server's message and SQLSTATE (never the values of one
// request, which would split one fault into many reasons) and, where there is
// one, the setting that fixes it.
import type { PgError } from './pg.js';

/** Where the client connects and as whom: for messages. */
export interface Target {
  host: string;
  port: number;
  database: string;
  user: string;
  /** Where the password comes from (`file /path`), never the password. */
  passwordFrom?: string;
  timeoutMs: number;
}

/** Errors on the socket itself, before or instead of any answer from the server. */
const NETWORK: Record<string, string> = {
  ECONNREFUSED: 'connection refused (nothing listens there)',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ENOTFOUND: 'host name not found',
  EAI_AGAIN: 'host name lookup failed (DNS)',
  ETIMEDOUT: 'connection timed out',
  ECONNRESET: 'connection reset by the server',
};

const codeOf = (e: unknown): string | undefined => (e as PgError | undefined)?.code;
const text = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** A SQLSTATE is five characters; anything else in `code` is a socket errno. */
export const isServerError = (e: unknown): boolean => /^[0-9A-Z]{5}$/.test(codeOf(e) ?? '');

/** The server's own words with its SQLSTATE: `deadlock detected (SQLSTATE 40P01)`. */
export function serverReason(e: unknown): string {
  return `${text(e)} (SQLSTATE ${codeOf(e)})`;
}

/** True when the connection cannot be used again: the socket is gone or the server ended the session. */
export function connectionLost(e: unknown): boolean {
  const code = codeOf(e);
  if (code === undefined) return true;
  // 57P01-57P03: the server shut down or is shutting down; 08xxx: connection exceptions.
  return !isServerError(e) || code.startsWith('08') || code.startsWith('57P');
}

/** Why opening a connection failed, naming what to check. */
export function connectFailure(e: unknown, t: Target, elapsedMs: number): string {
  const where = `PostgreSQL at ${t.host}:${t.port}`;
  const code = codeOf(e);
  const net = code ? NETWORK[code] : undefined;
  if (net) return `cannot connect to ${where}: ${net}; check that the Service is running and its host and port are right`;
  switch (code) {
    case '28P01':
      return t.passwordFrom
        ? `${where} refused the password of user "${t.user}" (${text(e)}; SQLSTATE 28P01); check the password the Service's credentials.password points to (${t.passwordFrom})`
        : `${where} refused user "${t.user}" without a password (${text(e)}; SQLSTATE 28P01); give the Service credentials.password ({ file: ... } or { env: ... })`;
    case '28000':
      return `${where} refused user "${t.user}" on database "${t.database}": ${text(e)} (SQLSTATE 28000); check credentials.user and the server's pg_hba.conf`;
    case '3D000':
      return `database "${t.database}" does not exist at ${where} (SQLSTATE 3D000); set the Service's spec.database to one that exists, or create it`;
    case '53300':
      return `${where} refused another connection: ${text(e)} (SQLSTATE 53300); lower load.workers or load.concurrency, set workload.connections lower, or raise the server's max_connections`;
    case '57P03':
      return `${where} is starting up or shutting down (SQLSTATE 57P03); wait until the Service is Ready`;
  }
  if (isServerError(e)) return `cannot connect to ${where}: ${serverReason(e)}`;
  if (elapsedMs >= t.timeoutMs || /timeout/i.test(text(e))) {
    return `no answer from ${where} within ${t.timeoutMs} ms (workload.timeout); check that the host is reachable from the runner's node and the port is right`;
  }
  if (/password must be a string|SASL/i.test(text(e)) && !t.passwordFrom) {
    return `${where} asks user "${t.user}" for a password and none is set; give the Service credentials.password ({ file: ... } or { env: ... })`;
  }
  if (/terminated unexpectedly/i.test(text(e))) {
    return `cannot connect to ${where}: the connection closed before PostgreSQL answered; check that a PostgreSQL server listens at that host and port and that the runner's node can reach it`;
  }
  return `cannot connect to ${where}: ${text(e)}`;
}

/** Why making or checking the tables at setup failed; errors already worded for people pass through. */
export function tablesFailure(e: unknown, t: Target): Error {
  if (!isServerError(e)) return e instanceof Error ? e : new Error(text(e));
  const fix =
    codeOf(e) === '42501'
      ? `; grant user "${t.user}" what it lacks (CREATE on the schema, to make the tables), or connect as a user that has it`
      : '';
  return new Error(`preparing the tables as user "${t.user}" in database "${t.database}" failed: ${serverReason(e)}${fix}`);
}

/** Why a statement failed during the run: the same words for every request that failed the same way. */
export function statementFailure(statement: string, e: unknown, timeoutMs: number): string {
  const code = codeOf(e);
  if (code === '57014') return `${statement}: canceled after ${timeoutMs} ms (workload.timeout, the server's statement_timeout; SQLSTATE 57014)`;
  if (isServerError(e)) return `${statement}: ${serverReason(e)}`;
  const net = code ? NETWORK[code] : undefined;
  return `${statement}: the connection was lost (${net ?? text(e)}); it is opened again for the next request`;
}
