// PostgreSQL client: a fixed pool of connections opened (and timed) at setup,
// one request = one operation of the guide's mix or one pgbench transaction,
// tables made at setup and dropped at teardown unless the workload keeps them.
import type { Connection } from '../../api/connection.js';
import { describeSecretRef } from '../../api/connection.js';
import { ConfigError, type BenchmarkClient, type Operation, type OperationMix, type OperationResult } from '../client.js';
import { connectionLost, tablesFailure, type Target } from './failure.js';
import { MixScript } from './mix.js';
import { loadPg, type PgClient, type PgConfig } from './pg.js';
import { PgbenchScript } from './pgbench.js';
import { ConnectionPool, endConnection, openConnection } from './pool.js';
import { DEFAULT_ROWS, DEFAULT_SCALE, DEFAULT_TABLE, type PostgresqlWorkload } from './schema.js';
import type { Script } from './script.js';
import { StatementError } from './statement.js';

/** Who connects when the Service names no user or database: PostgreSQL's own defaults. */
export const DEFAULT_USER = 'postgres';
export const DEFAULT_DATABASE = 'postgres';

export interface PostgresqlClientOptions {
  service?: Connection;
  /** The password credentials.password points to, read where the runner runs. */
  password?: string;
  /** Requests this rank can have in flight: the pool's size unless workload.connections says otherwise. */
  inflight: number;
  runId: string;
  rank: number;
  ranks: number;
  /** load.warmup (ms): the connection times ride on the first request after it. */
  warmupMs: number;
  /** Tests shorten how long ranks wait for each other over pgbench's tables. */
  rankWaitMs?: number;
}

export class PostgresqlClient implements BenchmarkClient {
  readonly operations: readonly string[];
  readonly mix: OperationMix;
  readonly script: Script;
  /** Connections the pool holds. */
  readonly connections: number;
  /** How long each pooled connection took to open, in setup (ms). */
  connectMs: number[] = [];
  private readonly target: Target;
  private readonly config: Omit<PgConfig, 'statement_timeout'>;
  private pool: ConnectionPool | undefined;
  private admin: PgClient | undefined;
  private adminLost = false;
  /** Setup reached the tables: teardown has something to drop. */
  private touched = false;
  private make: ((statementTimeout: number) => PgClient) | undefined;
  private firstScheduled: number | undefined;
  private connectReported = false;

  constructor(
    private readonly workload: PostgresqlWorkload,
    private readonly options: PostgresqlClientOptions,
  ) {
    const service = options.service;
    if (!service) {
      throw new ConfigError([{ path: 'serviceRef', message: 'a postgresql workload needs a service: set spec.serviceRef (or an inline spec.service) to a Service of type postgresql' }]);
    }
    const user = service.credentials?.user ?? DEFAULT_USER;
    const database = service.database ?? DEFAULT_DATABASE;
    const ref = service.credentials?.password;
    this.target = { host: service.host, port: service.port, database, user, passwordFrom: ref ? describeSecretRef(ref) : undefined, timeoutMs: workload.timeout };
    this.config = {
      host: service.host,
      port: service.port,
      database,
      user,
      ...(options.password !== undefined ? { password: options.password } : {}),
      connectionTimeoutMillis: workload.timeout,
      application_name: `aifb ${options.runId} r${options.rank}`.slice(0, 63),
    };
    this.connections = workload.connections ?? Math.max(1, options.inflight);
    this.script = createScript(workload, options);
    this.operations = this.script.operations;
    this.mix = this.script.mix;
  }

  async setup(): Promise<void> {
    const { Client } = await loadPg();
    // statement_timeout 0 for the client's own connection: loading a large table may take long.
    this.make = (statementTimeout) => new Client({ ...this.config, statement_timeout: statementTimeout });
    this.admin = await this.openAdmin();
    this.touched = true;
    try {
      await this.script.setup(this.admin);
    } catch (e) {
      throw tablesFailure(e, this.target);
    }
    this.pool = new ConnectionPool(this.connections, () => this.make!(this.workload.timeout), this.target);
    this.connectMs = await this.pool.open();
  }

  async execute(op: Operation): Promise<OperationResult> {
    const pool = this.pool;
    if (!pool) throw new Error('postgresql client used before setup()');
    const slot = await pool.acquire();
    let result: OperationResult;
    try {
      result = await this.script.execute(op.name, slot.client!);
    } catch (e) {
      if (e instanceof StatementError && connectionLost(e.cause)) slot.broken = true;
      throw e;
    } finally {
      pool.release(slot);
    }
    return this.withConnectTimes(op, result);
  }

  async teardown(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    // First the pool: a request the engine abandoned must not hold a lock the drop below waits for.
    await pool?.close();
    let admin = this.admin;
    this.admin = undefined;
    if (!this.touched) return;
    try {
      if (!admin || this.adminLost) {
        void endConnection(admin);
        admin = (await openConnection(() => this.make!(0), this.target)).client;
      }
      if (admin) await this.script.teardown(admin);
    } finally {
      await endConnection(admin);
    }
  }

  private async openAdmin(): Promise<PgClient> {
    const { client } = await openConnection(() => this.make!(0), this.target, () => (this.adminLost = true));
    return client;
  }

  /**
   * The connection times, measured in setup, ride once on the first request
   * that succeeds in the measured window, as one `connect` sample per
   * connection. The first request's intended time is no later than the
   * engine's start, so a request this counts as past the warmup is past it.
   */
  private withConnectTimes(op: Operation, result: OperationResult): OperationResult {
    if (this.connectReported) return result;
    const at = op.scheduled ?? 0;
    this.firstScheduled ??= at;
    if (at - this.firstScheduled < this.options.warmupMs) return result;
    this.connectReported = true;
    return { ...result, metrics: { ...result.metrics, connect: this.connectMs } };
  }
}

function createScript(w: PostgresqlWorkload, o: PostgresqlClientOptions): Script {
  const common = { mode: w.queryMode, keep: w.keep, timeoutMs: w.timeout };
  if (w.script === 'mix') {
    return new MixScript({ ...common, table: `"${w.table ?? DEFAULT_TABLE}_r${o.rank}"`, rows: w.rows ?? DEFAULT_ROWS, operationMix: w.operationMix });
  }
  return new PgbenchScript({
    ...common,
    script: w.script,
    initialize: w.initialize ?? true,
    scale: w.scale ?? DEFAULT_SCALE,
    runId: o.runId,
    rank: o.rank,
    ranks: o.ranks,
    rankWaitMs: o.rankWaitMs,
  });
}
