// The postgresql workload's settings: the guide's operation mix on a table of
// its own, or one of pgbench's built-in scripts on pgbench's schema.
import { z } from 'zod';
import { Duration, Weights } from '../../api/fields.js';

/** `mix` is the guide's recipe; the others are pgbench's built-in scripts (`pgbench -b NAME`). */
export const SCRIPTS = ['mix', 'tpcb-like', 'select-only'] as const;
export type Script = (typeof SCRIPTS)[number];

export const MIX_OPERATIONS = ['select', 'insert', 'update', 'delete'] as const;
export type MixOperation = (typeof MIX_OPERATIONS)[number];

/** The guide's PostgreSQL recipe. */
export const DEFAULT_MIX: Record<MixOperation, number> = { select: 0.4, insert: 0.3, update: 0.2, delete: 0.1 };
export const DEFAULT_ROWS = 10_000;
export const DEFAULT_TABLE = 'aifb_bench';
export const DEFAULT_SCALE = 1;

/** pgbench's -M: how statements go on the wire. */
export const QUERY_MODES = ['prepared', 'extended', 'simple'] as const;

// Room for the `_r<rank>` suffix and PostgreSQL's `_pkey` within its 63-byte names.
const TableName = z
  .string()
  .regex(/^[a-z_][a-z0-9_]{0,47}$/, 'must be lowercase letters, digits and "_", starting with a letter or "_", at most 48 characters, e.g. aifb_bench');

// Defaults of the fields below that belong to one kind of script are applied
// by the client, not here, so a field set for the other kind can be refused
// instead of silently ignored.
const MIX_ONLY = ['operationMix', 'rows', 'table'] as const;
const PGBENCH_ONLY = ['scale', 'initialize'] as const;

export const PostgresqlWorkload = z
  .strictObject({
    type: z.literal('postgresql'),
    /** mix (default): the operation mix on a table of this workload's own; tpcb-like or select-only: pgbench's scripts on pgbench's tables. */
    script: z.enum(SCRIPTS).default('mix'),
    /** mix: select, insert, update, delete -> weight. Default: the guide's 0.4/0.3/0.2/0.1. */
    operationMix: Weights.refine((w) => Object.keys(w).every((k) => (MIX_OPERATIONS as readonly string[]).includes(k)), `operations are ${MIX_OPERATIONS.join(', ')}`).optional(),
    /** mix: rows loaded into the table before the run. Default: 10000. */
    rows: z.number().int().nonnegative().optional(),
    /** mix: the table's name; each runner rank uses `<table>_r<rank>`, replaced at setup. Default: aifb_bench. */
    table: TableName.optional(),
    /** pgbench scripts: the scale (pgbench -i -s), 100000 accounts each. Default: 1. Only with initialize: true; otherwise read from pgbench_branches, as pgbench does. */
    scale: z.number().int().positive().optional(),
    /** pgbench scripts: create pgbench's tables at setup as `pgbench -i -s scale` does, replacing any (default true); false: use those `pgbench -i` made. */
    initialize: z.boolean().optional(),
    /** Leave the tables setup created in place after the run (default: dropped at teardown). */
    keep: z.boolean().default(false),
    /** prepared (default): named prepared statements; extended: unnamed; simple: SQL text with the values in it. As pgbench -M. */
    queryMode: z.enum(QUERY_MODES).default('prepared'),
    /** Connections per runner rank. Default: one per request in flight (closed-loop workers or open-loop concurrency), as pgbench -c. */
    connections: z.number().int().positive().max(10_000).optional(),
    /** Longest a statement (or opening a connection) may take: the server cancels a slower statement (statement_timeout). */
    timeout: Duration.default(30_000),
  })
  .superRefine((w, ctx) => {
    const pgbench = w.script !== 'mix';
    for (const field of pgbench ? MIX_ONLY : PGBENCH_ONLY) {
      if (w[field] === undefined) continue;
      ctx.addIssue({
        code: 'custom',
        path: [field],
        message: pgbench
          ? `${field} belongs to script: mix; pgbench's ${w.script} runs on pgbench's own tables (sized by scale), so remove ${field}`
          : `${field} belongs to pgbench's scripts; set script: tpcb-like or select-only, or remove ${field}`,
      });
    }
    if (pgbench && w.initialize === false && w.scale !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['scale'],
        message: 'with initialize: false the scale is what `pgbench -i -s N` made, read from pgbench_branches as pgbench does; remove scale, or set initialize: true',
      });
    }
    if (pgbench && w.initialize === false && w.keep) {
      ctx.addIssue({ code: 'custom', path: ['keep'], message: 'with initialize: false this workload creates no tables, so there is nothing to keep; remove keep' });
    }
  });

export type PostgresqlWorkload = z.output<typeof PostgresqlWorkload>;
