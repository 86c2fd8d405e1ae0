// The columns `aifbctl get` shows for each kind: NAME first, AGE last, and the
// few status fields a user scans for, read defensively from the raw spec.
import type { Kind } from '../api/schemas.js';
import type { ResourceView } from '../server/view.js';
import { NONE, formatAge, formatCount, formatLatency, formatRate, formatSeconds, orNone } from './format.js';

export interface TableOptions {
  wide?: boolean;
  /** Epoch ms used for AGE; injected so tests are stable. */
  now: number;
  /** `get all` prefixes names with the kind, as kubectl does (`benchmark/x`). */
  kindPrefix?: boolean;
}

export interface Table {
  header: string[];
  rows: string[][];
}

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** What a benchmark runs against: its serviceRef, else its inline service type, else its workload type. */
export function benchmarkService(spec: unknown): string {
  const s = obj(spec);
  return str(s.serviceRef) ?? str(obj(s.service).type) ?? str(obj(s.workload).type) ?? NONE;
}

export function phaseOf(view: ResourceView): string {
  return orNone(view.status?.phase);
}

/** The one line that explains the phase: status.message, else the reason of a condition that is not True. */
export function reasonOf(view: ResourceView): string {
  const msg = str(view.status?.message);
  if (msg) return msg;
  const notTrue = (view.status?.conditions ?? []).find((c) => c.status !== 'True');
  return notTrue ? notTrue.reason : NONE;
}

/** `host:port` of an endpoint (status, or a spec as written, where host defaults), or `<none>`. */
export function endpointText(ep: unknown): string {
  const o = obj(ep);
  return o.port !== undefined ? `${str(o.host) ?? '127.0.0.1'}:${String(o.port)}` : NONE;
}

/** Where a MonitoringStack component answers, from `status.endpoints`. */
export function componentEndpoint(view: ResourceView, component: string): string {
  return endpointText(view.status?.endpoints?.[component]);
}

function nameCell(view: ResourceView, opts: TableOptions): string {
  return opts.kindPrefix ? `${String(view.kind).toLowerCase()}/${view.metadata.name}` : view.metadata.name;
}

const age = (view: ResourceView, opts: TableOptions) => formatAge(view.metadata.creationTimestamp, opts.now);

function benchmarkTable(views: ResourceView[], opts: TableOptions): Table {
  const header = ['NAME', 'SERVICE', 'PHASE', 'REQS', 'RPS', 'P99'];
  if (opts.wide) header.push('ATTEMPTS', 'ERRORS', 'P50', 'DURATION', 'MESSAGE');
  header.push('AGE');
  const rows = views.map((v) => {
    const r = v.status?.results;
    // While it runs, the runner's progress stands in for the results to come.
    const p = v.status?.progress;
    const row = [
      nameCell(v, opts),
      benchmarkService(v.spec),
      phaseOf(v),
      formatCount(r?.requests ?? p?.requests),
      formatRate(r?.throughput ?? p?.rps),
      formatLatency(r?.p99Ms ?? p?.p99Ms),
    ];
    if (opts.wide) {
      row.push(formatCount(v.status?.attempts), formatCount(r?.errors), formatLatency(r?.p50Ms), formatSeconds(r?.durationS), reasonOf(v));
    }
    row.push(age(v, opts));
    return row;
  });
  return { header, rows };
}

function serviceTable(views: ResourceView[], opts: TableOptions): Table {
  const header = ['NAME', 'TYPE', 'PHASE', 'ENDPOINT'];
  if (opts.wide) header.push('ATTEMPTS', 'MESSAGE');
  header.push('AGE');
  const rows = views.map((v) => {
    const spec = obj(v.spec);
    // A service that runs elsewhere has its endpoint in the spec before the controller confirms it.
    const endpoint = v.status?.endpoint ?? spec.endpoint;
    const row = [nameCell(v, opts), orNone(str(spec.type)), phaseOf(v), endpointText(endpoint)];
    if (opts.wide) row.push(formatCount(v.status?.attempts), reasonOf(v));
    row.push(age(v, opts));
    return row;
  });
  return { header, rows };
}

function monitoringTable(views: ResourceView[], opts: TableOptions): Table {
  const header = ['NAME', 'PHASE', 'PROMETHEUS', 'GRAFANA'];
  if (opts.wide) header.push('PUSHGATEWAY', 'MESSAGE');
  header.push('AGE');
  const rows = views.map((v) => {
    const row = [nameCell(v, opts), phaseOf(v), componentEndpoint(v, 'prometheus'), componentEndpoint(v, 'grafana')];
    if (opts.wide) row.push(componentEndpoint(v, 'pushgateway'), reasonOf(v));
    row.push(age(v, opts));
    return row;
  });
  return { header, rows };
}

export function tableFor(kind: Kind, views: ResourceView[], opts: TableOptions): Table {
  switch (kind) {
    case 'Benchmark':
      return benchmarkTable(views, opts);
    case 'Service':
      return serviceTable(views, opts);
    case 'MonitoringStack':
      return monitoringTable(views, opts);
  }
}
