// Flat rows for dashboards: a JSON/Infinity datasource in Grafana reads an
// array of objects with scalar fields and no nesting, one row per resource.
import type { Kind, Status } from '../api/schemas.js';
import { ownedServiceName } from '../reconcile/owned-service.js';
import type { ResourceView } from './view.js';

export type Row = Record<string, string | number | null>;

/** The newest condition change, or when the run ended: what "updated" shows. */
function updated(status: Status): string | null {
  const times = [status.completedAt, status.startedAt, ...(status.conditions ?? []).map((c) => c.lastTransitionTime)].filter((t): t is string => !!t);
  return times.length ? times.sort().at(-1)! : null;
}

/** Why a resource is not where it wants to be: the first False condition other than the ones that only inform. */
function reason(status: Status): string {
  const down = (status.conditions ?? []).find((c) => c.status === 'False' && c.type !== 'Running');
  return down?.reason ?? '';
}

function spec(view: ResourceView): Record<string, unknown> {
  return (view.spec && typeof view.spec === 'object' ? view.spec : {}) as Record<string, unknown>;
}

function benchmarkRow(view: ResourceView): Row {
  const s = view.status;
  const r = s.results;
  const p = s.progress;
  const inline = spec(view).service ? ownedServiceName(view.metadata.name) : '';
  return {
    name: view.metadata.name,
    service: (spec(view).serviceRef as string | undefined) ?? inline,
    phase: s.phase ?? 'Pending',
    requests: r?.requests ?? p?.requests ?? null,
    rps: r?.throughput ?? p?.rps ?? null,
    p99Ms: r?.p99Ms ?? p?.p99Ms ?? null,
    successRate: r ? Math.round((1 - r.errorRate) * 10_000) / 100 : p && p.requests > 0 ? Math.round((1 - p.errors / p.requests) * 10_000) / 100 : null,
    generatorKeptUp: r?.generator ? (r.generator.keptUp ? 'yes' : 'no') : '',
    reason: reason(s),
    message: s.message ?? '',
    updated: updated(s),
  };
}

function serviceRow(view: ResourceView): Row {
  const s = view.status;
  return {
    name: view.metadata.name,
    type: (spec(view).type as string | undefined) ?? '',
    phase: s.phase ?? 'Pending',
    endpoint: s.endpoint ? `${s.endpoint.host}:${s.endpoint.port}` : '',
    reason: reason(s),
    message: s.message ?? '',
    updated: updated(s),
  };
}

function stackRow(view: ResourceView): Row {
  const s = view.status;
  const endpoints = Object.entries(s.endpoints ?? {}).map(([c, e]) => `${c} ${e.host}:${e.port}`);
  return {
    name: view.metadata.name,
    phase: s.phase ?? 'Pending',
    endpoints: endpoints.join(', '),
    tunnel: typeof s.tunnel === 'string' ? s.tunnel : '',
    reason: reason(s),
    message: s.message ?? '',
    updated: updated(s),
  };
}

const ROW: Record<Kind, (v: ResourceView) => Row> = { Benchmark: benchmarkRow, Service: serviceRow, MonitoringStack: stackRow };

export function tableRows(kind: Kind, views: ResourceView[]): Row[] {
  return views.map(ROW[kind]);
}
