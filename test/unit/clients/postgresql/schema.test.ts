// The postgresql workload's settings: defaults, and every field that cannot
// work with the others refused with its path before anything connects.
import { describe, expect, it } from 'vitest';
import { problemsFromZod } from '../../../../api/problems.js';
import { PostgresqlWorkload } from '../../../../clients/postgresql/schema.js';

const problems = (w: Record<string, unknown>) => {
  const r = PostgresqlWorkload.safeParse({ type: 'postgresql', ...w });
  return r.success ? [] : problemsFromZod(r.error).map((p) => `${p.path}: ${p.message}`);
};

describe('postgresql workload settings', () => {
  it("default to the guide's mix, prepared statements, a 30 s timeout, and cleanup", () => {
    expect(PostgresqlWorkload.parse({ type: 'postgresql' })).toEqual({ type: 'postgresql', script: 'mix', keep: false, queryMode: 'prepared', timeout: 30_000 });
  });

  it("refuse the mix's fields with a pgbench script, and pgbench's with the mix", () => {
    expect(problems({ script: 'tpcb-like', rows: 5, table: 't', operationMix: { select: 1 } })).toEqual([
      "operationMix: operationMix belongs to script: mix; pgbench's tpcb-like runs on pgbench's own tables (sized by scale), so remove operationMix",
      "rows: rows belongs to script: mix; pgbench's tpcb-like runs on pgbench's own tables (sized by scale), so remove rows",
      "table: table belongs to script: mix; pgbench's tpcb-like runs on pgbench's own tables (sized by scale), so remove table",
    ]);
    expect(problems({ scale: 10, initialize: true })).toEqual([
      "scale: scale belongs to pgbench's scripts; set script: tpcb-like or select-only, or remove scale",
      "initialize: initialize belongs to pgbench's scripts; set script: tpcb-like or select-only, or remove initialize",
    ]);
  });

  it('refuse a scale or keep that would be ignored on tables pgbench -i made', () => {
    expect(problems({ script: 'select-only', initialize: false, scale: 3, keep: true })).toEqual([
      'scale: with initialize: false the scale is what `pgbench -i -s N` made, read from pgbench_branches as pgbench does; remove scale, or set initialize: true',
      'keep: with initialize: false this workload creates no tables, so there is nothing to keep; remove keep',
    ]);
    expect(problems({ script: 'select-only', initialize: false })).toEqual([]);
  });

  it('refuse unknown operations, a table name that needs quoting, and a bad query mode', () => {
    expect(problems({ operationMix: { select: 1, upsert: 1 } })).toEqual(['operationMix: operations are select, insert, update, delete']);
    expect(problems({ table: 'Bench; DROP' })[0]).toMatch(/^table: must be lowercase letters, digits and "_"/);
    expect(problems({ table: 'a'.repeat(49) })[0]).toMatch(/at most 48 characters/);
    expect(problems({ queryMode: 'fast' })[0]).toMatch(/^queryMode: /);
  });
});
