// Builds postgresql clients against a test server (server.ts) with the
// settings a runner would give them, so each test states only what it changes.
import type { Connection } from '../../../../api/connection.js';
import { Load } from '../../../../api/schemas.js';
import { PostgresqlClient, type PostgresqlClientOptions } from '../../../../clients/postgresql/client.js';
import { PostgresqlWorkload } from '../../../../clients/postgresql/schema.js';
import type { PgServer } from './server.js';

/** The Service's endpoint as a runner gets it; the password travels apart, as ctx.credential returns it. */
export const serviceOf = (s: PgServer, over: Partial<Connection> = {}): Connection => ({
  scheme: 'postgresql',
  host: s.host,
  port: s.port,
  database: 'postgres',
  credentials: { user: s.user, password: { file: '/run/secrets/pg-password' } },
  ...over,
});

export function client(s: PgServer, workload: Record<string, unknown> = {}, options: Partial<PostgresqlClientOptions> = {}): PostgresqlClient {
  return new PostgresqlClient(PostgresqlWorkload.parse({ type: 'postgresql', ...workload }), {
    service: serviceOf(s),
    password: s.password,
    inflight: 2,
    runId: 'run-1',
    rank: 0,
    ranks: 1,
    warmupMs: 0,
    ...options,
  });
}

/** A closed-loop load of `requests` requests over `workers` workers, seeded. */
export const closedLoad = (workers: number, requests: number, over: Record<string, unknown> = {}) =>
  Load.parse({ mode: 'closed', workers, maxRequests: requests, duration: '60s', seed: 7, ...over });

/** The single number a one-row, one-column query returned. */
export const num = (rows: unknown[][]): number => Number(rows[0][0]);
