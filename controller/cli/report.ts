// `aifbctl report NAME`: the report of a benchmark's latest run (or --run ID)
// on stdout, rendered again from its RunResult in any format, written or not.
import { renderOperationsCsv } from '../../monitoring/reports/csv.js';
import { renderHtml } from '../../monitoring/reports/html.js';
import { renderJson } from '../../monitoring/reports/json.js';
import { renderMarkdown } from '../../monitoring/reports/markdown.js';
import { renderPrometheus } from '../../monitoring/reports/prometheus.js';
import type { RunResult } from '../../monitoring/results/model.js';
import type { IO } from './context.js';
import { withRunIndex } from './run-ref.js';

export const REPORT_FORMATS = ['md', 'json', 'csv', 'html', 'prom'] as const;
export type ReportOutputFormat = (typeof REPORT_FORMATS)[number];

const RENDERERS: Record<ReportOutputFormat, (r: RunResult) => string> = {
  md: renderMarkdown,
  json: renderJson,
  csv: renderOperationsCsv,
  html: renderHtml,
  prom: renderPrometheus,
};

export interface ReportOptions {
  stateDir: string;
  /** Benchmark name. */
  name: string;
  /** A run id of that benchmark; its latest run with results otherwise. */
  run?: string;
  output?: ReportOutputFormat;
}

export const REPORT_HELP = `
Prints the report of a benchmark's latest run (or --run ID) to stdout. Every
format is rendered from the stored run, so it works for formats the benchmark
did not write:
  md    a Markdown summary: summary, operations, declared metrics, SLO checks (default)
  json  the JSON report (report.json)
  csv   one row per operation plus "all" (the -operations.csv file)
  html  the self-contained HTML report
  prom  Prometheus text exposition (the .prom file)

Examples:
  aifbctl report vllm-load                              # Markdown, latest run
  aifbctl report vllm-load -o html > vllm-load.html
  aifbctl report vllm-load --run vllm-load-g2-a1 -o json | jq .summary
  aifbctl report vllm-load -o prom | curl --data-binary @- http://pushgateway:9091/metrics/job/aifb`;

export async function runReport(opts: ReportOptions, io: IO): Promise<number> {
  const output = opts.output ?? 'md';
  const render = RENDERERS[output];
  if (!(REPORT_FORMATS as readonly string[]).includes(output) || !render) {
    io.stderr(`Error: unknown report format "${output}"; use one of ${REPORT_FORMATS.join(', ')}\n`);
    return 1;
  }
  return withRunIndex(opts.stateDir, io, async (index) => {
    const runs = await index.list(opts.name, { withResults: true });
    if (opts.run === undefined && runs.length === 0) {
      io.stderr(`Error: benchmark ${opts.name} has no run with results in ${index.paths.stateDir}; see aifbctl runs ${opts.name}, or aifbctl logs ${opts.name} for a run that failed\n`);
      return 1;
    }
    const run = opts.run === undefined ? runs[0] : await index.resolve(opts.run, { benchmark: opts.name, withResults: true });
    io.stdout(render(await index.result(run)));
    return 0;
  });
}
