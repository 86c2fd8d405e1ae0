// `aifbctl runs NAME`: a benchmark's run history from <state>/results.db,
// newest first, read without a controller (the database is opened read-only).
import type { IO } from './context.js';
import { formatAge, formatCount, formatLatency, formatRate, renderTable } from './format.js';
import { serialize } from './get.js';
import { withRunIndex, type RunRow } from './run-ref.js';

export const RUNS_OUTPUT_FORMATS = ['table', 'json', 'yaml'] as const;
export type RunsOutputFormat = (typeof RUNS_OUTPUT_FORMATS)[number];

export interface RunsOptions {
  stateDir: string;
  /** Benchmark name. */
  name: string;
  output?: RunsOutputFormat;
  now?: () => number;
}

export const RUNS_HELP = `
Lists the collected runs of a benchmark from <state>/results.db, newest first.
Reads the state folder directly; no controller needs to run.

Examples:
  aifbctl runs vllm-load              # RUN-ID  GEN  ATTEMPT  WHEN  REQUESTS  RPS  P50  P99  SLO
  aifbctl runs vllm-load -o json      # every stored field, for scripts
  aifbctl --state /scratch/me/.aifb runs fs-load

Then: aifbctl report vllm-load --run RUN-ID, aifbctl compare vllm-load~1 vllm-load`;

export const RUNS_HEADER = ['RUN-ID', 'GEN', 'ATTEMPT', 'WHEN', 'REQUESTS', 'RPS', 'P50', 'P99', 'SLO'] as const;

const sloText = (passed: boolean | null) => (passed === null ? '-' : passed ? 'passed' : 'failed');

export function runsTableRows(rows: readonly RunRow[], now: number): string[][] {
  return rows.map((r) => [
    r.runId,
    String(r.generation),
    String(r.attempt),
    formatAge(r.startedAt, now),
    formatCount(r.requests),
    formatRate(r.throughput),
    formatLatency(r.p50Ms),
    formatLatency(r.p99Ms),
    sloText(r.sloPassed),
  ]);
}

export async function runRuns(opts: RunsOptions, io: IO): Promise<number> {
  const output = opts.output ?? 'table';
  if (!(RUNS_OUTPUT_FORMATS as readonly string[]).includes(output)) {
    io.stderr(`Error: unknown output format "${output}"; use one of ${RUNS_OUTPUT_FORMATS.join(', ')}\n`);
    return 1;
  }
  return withRunIndex(opts.stateDir, io, async (index) => {
    const rows = index.db.runs(opts.name);
    if (output !== 'table') {
      io.stdout(serialize({ benchmark: opts.name, runs: rows }, output));
      return 0;
    }
    if (rows.length === 0) {
      const why = index.db.exists
        ? `no run of it is in ${index.paths.resultsDb}`
        : `${index.paths.resultsDb} does not exist yet (no run has been collected in this state folder)`;
      const folders = await index.list(opts.name);
      const hint = folders.length > 0 ? `; ${folders.length} run folder(s) without results are in ${index.paths.runsDir}/${opts.name} (see aifbctl logs ${opts.name})` : '';
      io.stderr(`No runs found for benchmark ${opts.name}: ${why}${hint}.\n`);
      return 0;
    }
    io.stdout(renderTable(RUNS_HEADER, runsTableRows(rows, (opts.now ?? Date.now)())));
    return 0;
  });
}
