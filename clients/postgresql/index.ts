// PostgreSQL (the guide's database recipe): its select/insert/update/delete mix
// on a preloaded table, or pgbench's tpcb-like and select-only transactions on
// pgbench's schema, with each statement's time as pgbench -r shows it.
import type { MetricDecl } from '../../api/metrics.js';
import { defineWorkload } from '../workload.js';
import { TPCB_STATEMENTS, type TpcbStatement } from './pgbench-sql.js';
import { PostgresqlWorkload } from './schema.js';

const statementMetric = (name: TpcbStatement): MetricDecl => ({
  name,
  kind: 'timing',
  unit: 'ms',
  help: `pgbench scripts: time of the statement \`${TPCB_STATEMENTS[name]}\`, as pgbench -r lists it`,
});

export const POSTGRESQL_METRICS: readonly MetricDecl[] = [
  { name: 'rows', kind: 'count', unit: 'rows', help: 'rows the request returned or changed (a tpcb-like transaction: its five statements together)' },
  {
    name: 'connect',
    kind: 'timing',
    unit: 'ms',
    help: 'time to open and authenticate one connection, measured at setup apart from the run: one sample per pooled connection, carried by the first measured request',
  },
  ...(Object.keys(TPCB_STATEMENTS) as TpcbStatement[]).map(statementMetric),
];

export const postgresql = defineWorkload({
  type: 'postgresql',
  summary: "PostgreSQL: the guide's select/insert/update/delete mix on a preloaded table, or pgbench's tpcb-like and select-only scripts",
  schema: PostgresqlWorkload,
  services: ['postgresql'],
  needsService: true,
  metrics: POSTGRESQL_METRICS,
  example: 'postgresql.yaml',
  create: async (workload, ctx) =>
    new (await import('./client.js')).PostgresqlClient(workload, {
      service: ctx.service,
      password: ctx.credential('password'),
      inflight: ctx.inflight,
      runId: ctx.runId,
      rank: ctx.rank,
      ranks: ctx.ranks,
      warmupMs: ctx.load.warmup,
    }),
});
