// Writes the reports a benchmark asked for from one RunResult and says where
// they are; the controller stores these paths in status and the results DB.
import { mkdir } from 'node:fs/promises';
import { resolve, join } from 'node:path';
import type { RunResult } from '../results/model.js';
import writeFileAtomic from 'write-file-atomic';
import { renderMetricsCsv, renderOperationsCsv, renderSweepCsv, renderTimeseriesCsv } from './csv.js';
import { renderHtml } from './html.js';
import { renderJson } from './json.js';
import { renderPrometheus } from './prometheus.js';

export type ReportFormat = 'json' | 'csv' | 'html' | 'prometheus';

/** A file-name-safe stem from the run id. */
export function reportStem(runId: string): string {
  return runId.replace(/[^A-Za-z0-9._-]/g, '_') || 'run';
}

/**
 * Writes each format into dir (created if missing), each file atomically.
 * Returns format -> absolute path; csv gives "csv" (operations),
 * "csvTimeseries", when the workload declares metrics "csvMetrics", and for a sweep "csvSweep".
 */
export async function writeReports(result: RunResult, dir: string, formats: readonly ReportFormat[]): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const stem = reportStem(result.runId);
  const at = (file: string) => join(resolve(dir), file);
  await mkdir(resolve(dir), { recursive: true });
  for (const format of new Set(formats)) {
    switch (format) {
      case 'json':
        out.json = at(`${stem}-report.json`);
        await writeFileAtomic(out.json, renderJson(result));
        break;
      case 'csv':
        out.csv = at(`${stem}-operations.csv`);
        out.csvTimeseries = at(`${stem}-timeseries.csv`);
        await writeFileAtomic(out.csv, renderOperationsCsv(result));
        await writeFileAtomic(out.csvTimeseries, renderTimeseriesCsv(result));
        if (Object.keys(result.metrics).length > 0) {
          out.csvMetrics = at(`${stem}-metrics.csv`);
          await writeFileAtomic(out.csvMetrics, renderMetricsCsv(result));
        }
        if (result.sweep) {
          out.csvSweep = at(`${stem}-sweep.csv`);
          await writeFileAtomic(out.csvSweep, renderSweepCsv(result));
        }
        break;
      case 'html':
        out.html = at(`${stem}-report.html`);
        await writeFileAtomic(out.html, renderHtml(result));
        break;
      case 'prometheus':
        out.prometheus = at(`${stem}.prom`);
        await writeFileAtomic(out.prometheus, renderPrometheus(result));
        break;
      default:
        throw new Error(`unknown report format "${String(format)}" in spec.reports.formats; use json, csv, html or prometheus`);
    }
  }
  return out;
}
