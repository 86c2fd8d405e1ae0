import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Slo } from '../../../api/schemas.js';
import { mdCell, mdNumber, renderMarkdown } from '../../../monitoring/reports/markdown.js';
import { collectRun } from '../../../monitoring/results/merge.js';
import type { RunResult } from '../../../monitoring/results/model.js';
import { latencies, row, writeRank } from './rank-fixtures.js';

const NASTY = 'upstream said "no" | retry\nlater';
let dir: string;
let result: RunResult;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'aifb-md-'));
  const runDir = join(dir, 'run');
  await writeRank(runDir, {
    rank: 0,
    runId: 'fs-load-g1-a1',
    ops: { read: latencies(1, 500), write: latencies(2, 200, 5000) },
    errors: { write: 3 },
    errorsByReason: { write: { [NASTY]: 3 } },
    bytes: { read: 4096, write: 8192 },
    metrics: { read: { ttft: [0.5, 0.7, 1.5] } },
    timeseries: [row(0, 350, 1.4, 6), row(1, 350, 1.3, 4)],
  });
  result = await collectRun(runDir, { runId: 'fs-load-g1-a1', benchmark: 'fs-load', generation: 1, attempt: 1, slo: Slo.parse({ p99: '5ms', errorRate: 0.01 }) });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The cells of every table line under a heading, header row first (separator dropped). */
function tableUnder(md: string, heading: string): string[][] {
  const start = md.indexOf(`\n## ${heading}\n`);
  if (start < 0) throw new Error(`no section ${heading}`);
  const lines = md.slice(start).split('\n').slice(2);
  const rows: string[][] = [];
  for (const l of lines.slice(lines.findIndex((x) => x.startsWith('|')))) {
    if (!l.startsWith('|')) break;
    rows.push(l.slice(2, -2).split(/ (?<!\\)\| /));
  }
  return rows.filter((r) => !r.every((c) => /^-+:?$/.test(c)));
}

describe('renderMarkdown', () => {
  it('opens with the benchmark and run, then a summary table of the run', () => {
    const md = renderMarkdown(result);
    expect(md).toMatch(/^# fs-load: run fs-load-g1-a1\n/);
    const summary = Object.fromEntries(tableUnder(md, 'Summary').slice(1));
    expect(summary).toMatchObject({
      Requests: '700',
      Successful: '697',
      Failed: '3 (0.43%)',
      'Dropped (never sent)': '0',
      'Measured duration': '10 s',
      Throughput: `${mdNumber(result.summary.throughput)} req/s`,
      'Latency p99': `${mdNumber(result.latencyMs.p99)} ms`,
      SLO: result.slo!.passed ? 'passed' : 'failed',
      'Ended by': 'duration',
    });
  });

  it('has a row per operation plus "all", with the numbers of the result', () => {
    const ops = tableUnder(renderMarkdown(result), 'Operations');
    expect(ops[0]).toEqual(['Operation', 'Requests', 'Failed', 'Success', 'Throughput (req/s)', 'Mean (ms)', 'p50 (ms)', 'p90 (ms)', 'p99 (ms)', 'Max (ms)']);
    expect(ops.slice(1).map((r) => r[0])).toEqual(['read', 'write', 'all']);
    const write = ops.find((r) => r[0] === 'write')!;
    expect(write.slice(1, 4)).toEqual(['200', '3', '98.5%']);
    expect(write[8]).toBe(mdNumber(result.operations.write.latencyMs.p99));
  });

  it('lists declared metrics and each SLO check with its verdict', () => {
    const md = renderMarkdown(result);
    const metrics = tableUnder(md, 'Declared metrics');
    expect(metrics).toContainEqual(['read', 'ttft', 'timing', 'ms', '3', '-', '-', mdNumber(result.operations.read.metrics.ttft.mean), '0.7', '1.5', '1.5']);
    // Sum and mean are exact; percentiles come from the histogram (3 significant digits: 4096 reads 4099).
    const bytes = result.operations.read.metrics.bytes;
    expect(metrics).toContainEqual(['read', 'bytes', 'count', 'bytes', '1', '4096', '409.6', '4096', mdNumber(bytes.p50), mdNumber(bytes.p99), mdNumber(bytes.max)]);
    const checks = tableUnder(md, 'SLO checks');
    expect(checks[0]).toEqual(['Check', 'Target', 'Actual', 'Unit', 'Result']);
    const p99 = result.slo!.checks.find((c) => c.name === 'p99')!;
    expect(checks).toContainEqual(['p99', '5', mdNumber(p99.actual!), 'ms', p99.passed ? 'passed' : 'failed']);
    expect(checks).toContainEqual(['errorRate', '0.01', mdNumber(3 / 700), 'ratio', 'passed']);
    expect(md).toMatch(new RegExp(`## SLO checks\\n\\n\\*\\*${result.slo!.passed ? 'Passed' : 'Failed'}\\*\\*`));
  });

  it('keeps an error text with pipes and line breaks inside its cell', () => {
    const md = renderMarkdown(result);
    expect(md).toContain('| write | upstream said "no" \\| retry later | 3 |');
    expect(tableUnder(md, 'Errors')[1]).toEqual(['write', 'upstream said "no" \\| retry later', '3']);
  });

  it('leaves out sections that have nothing to say', () => {
    const { slo: _slo, ...noSlo } = result;
    const md = renderMarkdown({ ...noSlo, warnings: [], operations: { read: { ...result.operations.read, metrics: {} } }, metrics: {} });
    expect(md).not.toMatch(/## SLO checks|## Declared metrics|## Errors|## Warnings|## Sweep/);
    expect(Object.fromEntries(tableUnder(md, 'Summary').slice(1)).SLO).toBe('-');
  });
});

describe('mdNumber and mdCell', () => {
  it('prints integers whole and others with a sensible number of digits', () => {
    expect(mdNumber(42)).toBe('42');
    expect(mdNumber(1234.567)).toBe('1234.6');
    expect(mdNumber(12.345)).toBe('12.35');
    expect(mdNumber(0.0123456)).toBe('0.0123');
  });
  it('escapes what would end a cell', () => {
    expect(mdCell('a|b\\c\nd')).toBe('a\\|b\\\\c d');
  });
});
