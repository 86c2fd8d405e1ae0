import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Slo } from '../../../api/schemas.js';
import { REPORT_FORMATS, runReport, type ReportOutputFormat } from '../../../controller/cli/report.js';
import { OPERATIONS_HEADER } from '../../../monitoring/reports/csv.js';
import { JsonReport, renderJson } from '../../../monitoring/reports/json.js';
import { collectRun } from '../../../monitoring/results/merge.js';
import type { RunResult } from '../../../monitoring/results/model.js';
import { ResultsDb } from '../../../monitoring/results/results-db.js';
import { latencies, writeRank } from '../monitoring/rank-fixtures.js';
import { capture } from './fixtures.js';

let state: string;
const stored = new Map<string, RunResult>();

async function rankFolder(bench: string, runId: string, startedAt: string): Promise<string> {
  const runDir = join(state, 'runs', bench, runId);
  await writeRank(runDir, {
    rank: 0,
    runId,
    startedAt,
    ops: { read: latencies(1, 400), write: latencies(2, 100, 4000) },
    errors: { write: 2 },
    errorsByReason: { write: { ENOSPC: 2 } },
    metrics: { read: { ttft: [1.5, 2.5, 4] } },
  });
  return runDir;
}

beforeAll(async () => {
  state = await mkdtemp(join(tmpdir(), 'aifb-cli-report-'));
  const db = new ResultsDb(join(state, 'results.db'));
  try {
    for (const [runId, day] of [['fs-load-g1-a1', 4], ['fs-load-g1-a2', 5]] as const) {
      const runDir = await rankFolder('fs-load', runId, `2025-01-0${day}T12:00:00.000Z`);
      const result = await collectRun(runDir, { runId, benchmark: 'fs-load', generation: 1, attempt: Number(runId.slice(-1)), service: 'file-storage', slo: Slo.parse({ p99: '50ms' }) });
      stored.set(runId, result);
      db.saveRun(result, {});
    }
  } finally {
    db.close();
  }
  // A run the database never got (its controller died while collecting): only its folder and spec.
  const lost = await rankFolder('lost', 'lost-g3-a1', '2025-01-06T12:00:00.000Z');
  await writeFile(join(lost, 'spec.json'), JSON.stringify({ benchmark: 'lost', runId: 'lost-g3-a1', workload: { type: 'file-storage' }, load: { workers: 2, duration: '10s' }, ranks: 1, slo: { p99: '1ms' } }));
});
afterAll(async () => {
  await rm(state, { recursive: true, force: true });
});

const report = async (name: string, extra: { run?: string; output?: ReportOutputFormat } = {}) => {
  const io = capture();
  const code = await runReport({ stateDir: state, name, ...extra }, io);
  return { code, ...io };
};

describe('aifbctl report', () => {
  it('prints the latest run as Markdown by default, with its summary table', async () => {
    const { code, out, err } = await report('fs-load');
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(out).toMatch(/^# fs-load: run fs-load-g1-a2\n/);
    expect(out).toMatch(/\n## Summary\n\n\| Metric \| Value \|\n\| --- \| ---: \|\n\| Requests \| 500 \|\n\| Successful \| 498 \|\n\| Failed \| 2 \(0\.4%\) \|\n/);
    expect(out).toMatch(/\n## Operations\n\n\| Operation \| Requests \|/);
    expect(out).toMatch(/\n## Declared metrics\n/);
    expect(out).toMatch(/\n## SLO checks\n\n\*\*(Passed|Failed)\*\*\n/);
  });

  it('produces every format, each rendered from the stored run', async () => {
    const latest = stored.get('fs-load-g1-a2')!;
    const outputs = Object.fromEntries(await Promise.all(REPORT_FORMATS.map(async (f) => [f, await report('fs-load', { output: f })] as const)));
    for (const f of REPORT_FORMATS) expect(outputs[f].code, f).toBe(0);

    expect(outputs.json.out).toBe(renderJson(latest));
    expect(JsonReport.parse(JSON.parse(outputs.json.out)).benchmark_id).toBe('fs-load-g1-a2');

    const csv = outputs.csv.out.trimEnd().split('\n');
    expect(csv[0]).toBe(OPERATIONS_HEADER.join(','));
    expect(csv.slice(1).map((l) => l.split(',')[2])).toEqual(['read', 'write', 'all']);

    expect(outputs.html.out).toMatch(/^<!doctype html>/i);
    expect(outputs.html.out).toContain('fs-load-g1-a2');

    expect(outputs.prom.out).toMatch(/^benchmark_requests_total\{benchmark="fs-load",service="file-storage",run="fs-load-g1-a2",operation="all"\} 500$/m);
    expect(outputs.prom.out).toMatch(/^# TYPE benchmark_request_duration_seconds histogram$/m);
  });

  it('reports an earlier run with --run', async () => {
    const { code, out } = await report('fs-load', { run: 'fs-load-g1-a1', output: 'json' });
    expect(code).toBe(0);
    expect(JSON.parse(out)).toMatchObject({ benchmark_id: 'fs-load-g1-a1', started_at: '2025-01-04T12:00:00.000Z' });
  });

  it('fails on a --run the benchmark does not have, listing the runs it has', async () => {
    const { code, out, err } = await report('fs-load', { run: 'fs-load-g7-a1' });
    expect(code).toBe(1);
    expect(out).toBe('');
    expect(err).toBe('Error: run "fs-load-g7-a1" not found for benchmark fs-load; known runs with results: fs-load-g1-a2, fs-load-g1-a1\n');
  });

  it('collects a run again from its folder when the database lacks it, with the SLO from its spec', async () => {
    const { code, out } = await report('lost');
    expect(code).toBe(0);
    expect(out).toMatch(/^# lost: run lost-g3-a1\n\nGeneration 3, attempt 1, 1 rank;/);
    expect(out).toMatch(/\n\| p99 \| 1 \| [\d.]+ \| ms \| failed \|\n/);
    const prom = await report('lost', { output: 'prom' });
    expect(prom.out).toContain('service="file-storage"');
  });

  it('says what to do for a benchmark without results, an unknown format, a missing state folder', async () => {
    const none = await report('nothing');
    expect(none.code).toBe(1);
    expect(none.err).toMatch(/^Error: benchmark nothing has no run with results in .*; see aifbctl runs nothing/);
    const bad = await report('fs-load', { output: 'pdf' as never });
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/unknown report format "pdf"; use one of md, json, csv, html, prom/);
    const io = capture();
    expect(await runReport({ stateDir: join(state, 'gone'), name: 'fs-load' }, io)).toBe(1);
    expect(io.err).toMatch(/state folder .*gone does not exist/);
  });
});
