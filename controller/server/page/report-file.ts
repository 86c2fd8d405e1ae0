// Which file GET /api/v1/reports/:benchmark/:runId/:format may send: only a
// report the controller recorded for that run, lying inside the folder it wrote that run's reports to.
import { realpath, stat } from 'node:fs/promises';
import { extname, join, resolve, sep } from 'node:path';

/** What each report file is, by its extension; any other file is never served. */
export const REPORT_TYPES: Record<string, string> = {
  '.json': 'application/json; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.csv': 'text/csv; charset=utf-8',
  '.prom': 'text/plain; version=0.0.4; charset=utf-8',
};

/** Benchmark names are DNS labels, run ids `NAME-gN-aN`, formats `json`, `csvTimeseries`: no slash, no leading dot. */
const SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$/;

export interface ReportRequest {
  benchmark: string;
  runId: string;
  format: string;
  /** format -> path, as the controller recorded them for this run (status.reports or the results database). */
  recorded: Record<string, string> | undefined;
  /** Where this benchmark's reports go: `<reports>/<benchmark>` and its spec.reports.dir; the run's folder is `<root>/<runId>`. */
  roots: string[];
}

/** The report's real path and content type, or undefined for anything that is not a recorded report inside its run's folder. */
export async function reportFile(r: ReportRequest): Promise<{ path: string; contentType: string } | undefined> {
  if (![r.benchmark, r.runId, r.format].every((s) => SEGMENT.test(s))) return undefined;
  const recorded = r.recorded?.[r.format];
  if (!recorded || !Object.hasOwn(r.recorded!, r.format)) return undefined;
  const contentType = REPORT_TYPES[extname(recorded).toLowerCase()];
  if (!contentType) return undefined;
  // Real paths on both sides: a symlink in the folder must not lead out of it.
  const real = await realpath(recorded).catch(() => undefined);
  if (!real || !(await stat(real)).isFile()) return undefined;
  for (const root of r.roots) {
    const folder = await realpath(join(resolve(root), r.runId)).catch(() => undefined);
    if (folder && real.startsWith(folder + sep)) return { path: real, contentType };
  }
  return undefined;
}
