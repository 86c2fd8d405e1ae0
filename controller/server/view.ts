// What the status API serves and aifbctl prints: one view per resource, built by
// the controller from memory or, when it is down, by reading the files.
import type { Kind, Status } from '../api/schemas.js';

export interface ResourceEvent {
  time: string;
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

export interface ResourceView {
  apiVersion: string;
  kind: Kind | string;
  metadata: {
    name: string;
    /** Resource file that holds it, and its document index in that file. */
    file: string;
    index: number;
    uid?: string;
    generation?: number;
    creationTimestamp?: string;
    labels?: Record<string, string>;
  };
  /** The spec as the user wrote it (raw, before defaults). */
  spec: unknown;
  status: Status;
  events: ResourceEvent[];
}

/** Plural path segment used by the API and the CLI: `benchmarks`, `services`, `monitoringstacks`. */
export const PLURALS: Record<string, Kind> = {
  benchmarks: 'Benchmark',
  benchmark: 'Benchmark',
  bench: 'Benchmark',
  services: 'Service',
  service: 'Service',
  svc: 'Service',
  monitoringstacks: 'MonitoringStack',
  monitoringstack: 'MonitoringStack',
  ms: 'MonitoringStack',
};

export const pluralOf = (kind: Kind): string => `${kind.toLowerCase()}s`;

export interface ResourceSource {
  list(kind: Kind): Promise<ResourceView[]>;
  get(kind: Kind, name: string): Promise<ResourceView | undefined>;
  /**
   * A number that changes whenever any view may have changed. A source that has
   * it lets the API serve a list it already serialized while nothing changes
   * (a dashboard polling a thousand idle resources costs a buffer copy).
   */
  version?(): number;
}
