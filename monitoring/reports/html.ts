// A self-contained HTML report: one file with the run's tables and uPlot charts,
// uPlot and the chart data inlined and no external URL, so it opens offline on a login node.
import type { RunResult } from '../results/model.js';
import { latencyChart, overTimeCharts, sweepChart, timingCharts, uniqueNames, valueCharts, type ChartBlock } from './html/charts.js';
import { chartAssets, chartHtml } from './html/draw.js';
import { errorsTable, latencyTable, metricsTable, operationsTable, sendLagTable, sloSection, summarySection, sweepTable, withFailuresTable } from './html/sections.js';
import { escapeHtml } from './html/table.js';

export { escapeHtml } from './html/table.js';

const CSS = `body{font:14px/1.4 system-ui,sans-serif;margin:2rem;color:#222;max-width:1100px}table{border-collapse:collapse;margin:.5rem 0 1.5rem}td,th{border:1px solid #ddd;padding:.25rem .6rem;text-align:left}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}th{background:#f6f8fa}.ok{color:#1a7f37}.bad{color:#d1242f}.muted{color:#777}figure{margin:1rem 0 1.5rem}figcaption{font-weight:600;margin-bottom:.25rem}.chart{width:100%;min-height:300px}.no-data{color:#777;font-style:italic;border:1px dashed #ccc;padding:.75rem}`;

export function renderHtml(r: RunResult): string {
  const groups = {
    sweep: r.sweep ? [sweepChart(r.sweep.points)] : [],
    latency: [latencyChart(r)],
    overTime: overTimeCharts(r.timeseries),
    metrics: timingCharts(r),
    values: valueCharts(r),
  };
  // Names made unique over the whole page, then dealt back to their groups.
  const all = uniqueNames(Object.values(groups).flat());
  let at = 0;
  const blocks = Object.fromEntries(Object.entries(groups).map(([k, bs]) => [k, all.slice(at, (at += bs.length))])) as typeof groups;
  const assets = chartAssets(all.flatMap((b) => ('chart' in b ? [b.chart] : [])));
  const charts = (bs: ChartBlock[]) => bs.map(chartHtml).join('\n');
  const title = `${r.benchmark} — ${r.runId}`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${escapeHtml(title)}</title>
${assets.style}
<style>${CSS}</style>
</head><body>
<h1>${escapeHtml(title)}</h1>
<p class="muted">generation ${r.generation}, attempt ${r.attempt}, ${r.ranks} rank(s), ${escapeHtml(r.startedAt)} to ${escapeHtml(r.completedAt)}</p>
${r.warnings.length ? `<ul class="bad">${r.warnings.map((w) => `<li>${escapeHtml(w)}</li>`).join('')}</ul>` : ''}
${sweepTable(r)}
${charts(blocks.sweep)}
${r.sweep ? charts(blocks.values) : ''}
${summarySection(r)}
${latencyTable(r)}
${charts(blocks.latency)}
${withFailuresTable(r)}
${sloSection(r)}
<h2>Over time</h2>
${charts(blocks.overTime)}
${operationsTable(r)}
${metricsTable(r)}
${charts(blocks.metrics)}
${r.sweep ? '' : charts(blocks.values)}
${errorsTable(r)}
${sendLagTable(r)}
${assets.scripts}
</body></html>
`;
}
