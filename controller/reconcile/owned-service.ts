// A Benchmark may carry its service inline (spec.service): the controller then
// reconciles it as a Service of its own, owned by the benchmark, whose status
// lives in memory only and which is stopped when the benchmark ends.
import { API_VERSION, type BenchmarkResource, type ServiceResource } from '../api/schemas.js';
import { specHashOf, type ParsedDoc } from '../store/parse.js';

export const OWNER_LABEL = 'aifb.io/owner';

/** The name of the service a benchmark owns: `<benchmark>-svc`, kept a DNS label. */
export function ownedServiceName(benchmark: string): string {
  return `${benchmark.slice(0, 59).replace(/-+$/, '')}-svc`;
}

/** The service a benchmark waits for: its serviceRef, or the one it owns. */
export function serviceNameOf(b: BenchmarkResource): string | undefined {
  return b.spec.serviceRef ?? (b.spec.service ? ownedServiceName(b.metadata.name) : undefined);
}

export interface OwnedDoc extends ParsedDoc {
  /** Key of the benchmark that owns this synthetic document. */
  owner: string;
}

export const isOwned = (doc: ParsedDoc): doc is OwnedDoc => typeof (doc as OwnedDoc).owner === 'string';

/** A synthetic Service document for a benchmark's inline service. */
export function ownedServiceDoc(bench: ParsedDoc, resource: BenchmarkResource): OwnedDoc | undefined {
  const spec = resource.spec.service;
  if (!spec) return undefined;
  const name = ownedServiceName(resource.metadata.name);
  const service: ServiceResource = {
    apiVersion: API_VERSION,
    kind: 'Service',
    metadata: { name, labels: { [OWNER_LABEL]: resource.metadata.name } },
    spec,
  };
  const rawSpec = (bench.raw as { spec?: { service?: unknown } }).spec?.service;
  const raw = { apiVersion: API_VERSION, kind: 'Service', metadata: service.metadata, spec: rawSpec };
  return {
    file: bench.file,
    index: bench.index,
    kind: 'Service',
    name,
    key: `Service/${name}`,
    yamlErrors: [],
    raw,
    validation: { ok: true, resource: service, kind: 'Service', name },
    specHash: specHashOf(raw),
    owner: bench.key!,
  };
}
