// `aifbctl describe KIND NAME`: one resource in kubectl's sectioned layout:
// identity, spec summary, conditions, results, reports and events.
import type { Kind, ResultsSummary } from '../api/schemas.js';
import { describeSecretRef } from '../../api/connection.js';
import type { ResourceView } from '../server/view.js';
import { benchmarkService, componentEndpoint, endpointText } from './columns.js';
import { errorMessage, type Globals, type IO } from './context.js';
import { NONE, formatAge, formatCount, formatLatency, formatPercent, formatRate, formatSeconds, orNone, renderTable } from './format.js';
import { summaryText } from '../../clients/runner/summary-text.js';
import { kindFromArg, unknownKindMessage } from './kinds.js';
import { openSource, type OpenedSource } from './source.js';

export interface DescribeOptions extends Globals {
  kind: string;
  name: string;
  now?: () => number;
  /** Replaces the API-or-disk choice; tests pass a fake source. */
  open?: () => Promise<OpenedSource>;
}

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});

/** `Key:   value` lines with values aligned, indented by `indent` spaces. */
function fields(pairs: [string, string][], indent = 0): string {
  const width = Math.max(...pairs.map(([k]) => k.length + 1));
  const pad = ' '.repeat(indent);
  return pairs.map(([k, v]) => `${pad}${`${k}:`.padEnd(width)}  ${v}`.trimEnd() + '\n').join('');
}

function indentBlock(text: string, indent = 2): string {
  const pad = ' '.repeat(indent);
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => pad + l + '\n')
    .join('');
}

/** Spec values as the user wrote them: `30s` stays `30s`, objects become `k=v` lists. */
function raw(v: unknown): string {
  if (v === undefined || v === null || v === '') return NONE;
  if (Array.isArray(v)) return v.length ? v.map(nested).join(', ') : NONE;
  if (typeof v === 'object') {
    const entries = Object.entries(v as Obj);
    return entries.length ? entries.map(([k, x]) => `${k}=${nested(x)}`).join(', ') : NONE;
  }
  return String(v);
}

/** Inner lists and maps get brackets so `a={x=1, y=2}, b=3` stays readable. */
function nested(v: unknown): string {
  if (Array.isArray(v)) return `[${raw(v)}]`;
  if (v !== null && typeof v === 'object') return `{${raw(v)}}`;
  return raw(v);
}

function loadSummary(load: Obj): string {
  const parts: string[] = [];
  const mode = (load.mode as string | undefined) ?? 'closed';
  if (mode === 'open') parts.push(`open loop at ${raw(load.rate)} req/s (${raw(load.arrival ?? 'constant')} arrivals)`);
  else parts.push(`closed loop with ${raw(load.workers ?? 4)} workers`);
  if (load.concurrency !== undefined) parts.push(`concurrency ${raw(load.concurrency)}`);
  if (load.duration !== undefined) parts.push(`duration ${raw(load.duration)}`);
  if (load.warmup !== undefined) parts.push(`warmup ${raw(load.warmup)}`);
  if (load.maxRequests !== undefined) parts.push(`max ${raw(load.maxRequests)} requests`);
  if (load.sweep !== undefined) parts.push(`sweep ${raw(load.sweep)}`);
  return parts.join(', ');
}

function specPairs(kind: Kind | string, spec: Obj): [string, string][] {
  switch (kind) {
    case 'Benchmark': {
      const workload = obj(spec.workload);
      const runner = obj(spec.runner);
      const { type: _t, ...workloadRest } = workload;
      return [
        ['Service', spec.serviceRef !== undefined ? `${raw(spec.serviceRef)} (serviceRef)` : spec.service !== undefined ? `${benchmarkService(spec)} (inline)` : NONE],
        ['Workload', `${raw(workload.type)}${Object.keys(workloadRest).length ? ` (${raw(workloadRest)})` : ''}`],
        ['Load', loadSummary(obj(spec.load))],
        ['SLO', raw(spec.slo)],
        ['Runner', `${raw(runner.nodes ?? 1)} node(s) x ${raw(runner.tasksPerNode ?? 1)} task(s)`],
        ['Reports', raw(obj(spec.reports).formats ?? ['json', 'csv'])],
      ];
    }
    case 'Service':
      return [
        ['Type', raw(spec.type)],
        ['Image', raw(spec.image)],
        ['Model', raw(spec.model)],
        ['Port', raw(spec.port)],
        ['GPUs', raw(spec.gpus ?? 0)],
        ['Endpoint', spec.endpoint !== undefined ? endpointText(spec.endpoint) : NONE],
        ['Slurm', raw(spec.slurm)],
      ];
    default:
      return Object.entries(spec).map(([k, v]) => [k, raw(v)]);
  }
}

function resultsPairs(r: ResultsSummary): [string, string][] {
  return [
    ['Requests', formatCount(r.requests)],
    ['Errors', `${formatCount(r.errors)} (${formatPercent(r.errorRate)})`],
    ['Duration', formatSeconds(r.durationS)],
    ['Throughput', `${formatRate(r.throughput)} req/s`],
    ['Latency', `p50 ${formatLatency(r.p50Ms)}  p90 ${formatLatency(r.p90Ms)}  p95 ${formatLatency(r.p95Ms)}  p99 ${formatLatency(r.p99Ms)}  p99.9 ${formatLatency(r.p999Ms)}`],
    ['Max', formatLatency(r.maxMs)],
    ['SLO', r.sloPassed === undefined ? NONE : r.sloPassed ? 'Passed' : 'Failed'],
  ];
}

/** Renders the describe text for one view; exported for tests. */
export function describeView(view: ResourceView, now: number): string {
  const st = view.status ?? {};
  const md = view.metadata;
  const labels = md.labels && Object.keys(md.labels).length ? Object.entries(md.labels).map(([k, v]) => `${k}=${v}`).join(',') : NONE;
  let out = fields([
    ['Name', md.name],
    ['Kind', String(view.kind)],
    ['API Version', view.apiVersion],
    ['File', `${md.file} (document ${md.index + 1})`],
    ['Labels', labels],
    ['UID', orNone(md.uid)],
    ['Created', md.creationTimestamp ? `${md.creationTimestamp} (${formatAge(md.creationTimestamp, now)} ago)` : NONE],
    ['Generation', orNone(md.generation)],
    ['Observed Generation', orNone(st.observedGeneration)],
    ['Phase', orNone(st.phase)],
    ['Message', orNone(st.message)],
    ['Attempts', orNone(st.attempts)],
    ['Started', orNone(st.startedAt)],
    ['Completed', orNone(st.completedAt)],
  ]);
  if (view.kind === 'Service') out += fields([['Endpoint', endpointText(st.endpoint)]]);
  if (view.kind === 'MonitoringStack') {
    out += fields(['prometheus', 'pushgateway', 'grafana'].map((c) => [c[0]!.toUpperCase() + c.slice(1), componentEndpoint(view, c)]));
    if (st.grafana) out += fields([['Grafana Login', `${st.grafana.adminUser}, password in ${describeSecretRef(st.grafana.adminPassword)}`]]);
    if (st.tunnel) out += fields([['SSH Tunnel', st.tunnel]]);
  }

  out += 'Spec:\n' + fields(specPairs(view.kind, obj(view.spec)), 2);

  const conditions = st.conditions ?? [];
  out += 'Conditions:\n';
  out += conditions.length
    ? indentBlock(
        renderTable(
          ['TYPE', 'STATUS', 'REASON', 'MESSAGE', 'LAST-TRANSITION'],
          conditions.map((c) => [c.type, c.status, c.reason, orNone(c.message), orNone(c.lastTransitionTime)]),
        ),
      )
    : `  ${NONE}\n`;

  if (view.kind === 'Benchmark') {
    out += 'Results:\n' + (st.results ? fields(resultsPairs(st.results), 2) : `  ${NONE}\n`);
    // Laid out as vLLM's serving benchmark prints its result, so the two can be set side by side.
    if (st.results) out += 'Summary:\n' + indentBlock(summaryText(st.results, `${raw(obj(obj(view.spec).workload).type)} result`));
    const reports = Object.entries(st.reports ?? {});
    out += 'Reports:\n' + (reports.length ? fields(reports, 2) : `  ${NONE}\n`);
  }
  const jobs = st.jobs ?? [];
  if (jobs.length) out += 'Jobs:\n' + jobs.map((j) => `  ${raw(j)}\n`).join('');

  out += 'Events:\n';
  out += view.events.length
    ? indentBlock(renderTable(['LAST SEEN', 'TYPE', 'REASON', 'MESSAGE'], view.events.map((e) => [formatAge(e.time, now), e.type, e.reason, e.message])))
    : `  ${NONE}\n`;
  return out;
}

export async function runDescribe(opts: DescribeOptions, io: IO): Promise<number> {
  const kind = kindFromArg(opts.kind);
  if (!kind) {
    io.stderr(`Error: ${unknownKindMessage(opts.kind)}\n`);
    return 1;
  }
  try {
    const src = await (opts.open ?? (() => openSource(opts)))();
    const view = await src.source.get(kind, opts.name);
    if (!view) {
      io.stderr(`Error: ${kind.toLowerCase()} "${opts.name}" not found\n`);
      return 1;
    }
    io.stdout(describeView(view, (opts.now ?? Date.now)()));
    return 0;
  } catch (e) {
    io.stderr(`Error: ${errorMessage(e)}\n`);
    return 1;
  }
}
