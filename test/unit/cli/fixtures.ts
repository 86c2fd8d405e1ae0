// Shared test data for the aifbctl tests: a fixed set of resource views, a fake
// ResourceSource over them, and an IO that collects what a verb prints.
import type { Kind } from '../../../api/schemas.js';
import type { IO } from '../../../controller/cli/context.js';
import type { OpenedSource } from '../../../controller/cli/source.js';
import type { ResourceSource, ResourceView } from '../../../controller/server/view.js';

/** 2024-05-01T12:00:00Z: every AGE in these tests is measured from here. */
export const NOW = Date.parse('2024-05-01T12:00:00Z');
const ago = (ms: number) => new Date(NOW - ms).toISOString();

export function views(): ResourceView[] {
  return [
    {
      apiVersion: 'aifb.io/v1alpha1',
      kind: 'Benchmark',
      metadata: { name: 'vllm-load', file: '/r/vllm.yaml', index: 0, generation: 2, creationTimestamp: ago(3 * 60_000), labels: { team: 'ai' } },
      spec: { serviceRef: 'vllm', workload: { type: 'file-storage' }, load: { mode: 'open', rate: 50, duration: '30s' }, slo: { p99: '500ms' } },
      status: {
        phase: 'Succeeded',
        observedGeneration: 2,
        attempts: 1,
        startedAt: '2024-05-01T11:57:10Z',
        completedAt: '2024-05-01T11:57:40Z',
        conditions: [
          { type: 'Ready', status: 'True', reason: 'Completed', message: 'run finished', lastTransitionTime: '2024-05-01T11:57:40Z' },
          { type: 'SLOMet', status: 'True', reason: 'WithinTargets', message: '', lastTransitionTime: '2024-05-01T11:57:40Z' },
        ],
        results: {
          requests: 1500,
          errors: 3,
          errorRate: 0.002,
          durationS: 30,
          throughput: 49.96,
          p50Ms: 4.21,
          p90Ms: 8.5,
          p95Ms: 10.25,
          p99Ms: 12.34,
          p999Ms: 40,
          maxMs: 1203,
          sloPassed: true,
          metrics: {
            ttft: { unit: 'ms', mean: 80.5, p50: 75.25, p99: 210 },
            outputTokens: { unit: 'tokens', mean: 128, p50: 128, p99: 128, sum: 192_000, perSecond: 6400 },
          },
        },
        reports: { json: '/reports/vllm-load/report.json', csv: '/reports/vllm-load/report.csv' },
      },
      events: [
        { time: ago(3 * 60_000), type: 'Normal', reason: 'Submitted', message: 'Started runner pid=123' },
        { time: ago(20_000), type: 'Normal', reason: 'Completed', message: 'Run finished: 1500 requests' },
      ],
    },
    {
      apiVersion: 'aifb.io/v1alpha1',
      kind: 'Benchmark',
      metadata: { name: 'fs', file: '/r/fs.yaml', index: 0, creationTimestamp: ago(5_000) },
      spec: { service: { type: 'postgresql' }, workload: { type: 'file-storage' }, load: { workers: 2, maxRequests: 10 } },
      status: { phase: 'Running', attempts: 2, message: 'runner started' },
      events: [],
    },
    {
      apiVersion: 'aifb.io/v1alpha1',
      kind: 'Benchmark',
      metadata: { name: 'broken', file: '/r/broken.yaml', index: 1 },
      spec: { workload: { type: 'file-storage' } },
      status: {
        phase: 'Invalid',
        conditions: [{ type: 'Valid', status: 'False', reason: 'InvalidSpec', message: 'spec.load: required', lastTransitionTime: ago(1_000) }],
      },
      events: [],
    },
    {
      apiVersion: 'aifb.io/v1alpha1',
      kind: 'Service',
      metadata: { name: 'vllm', file: '/r/vllm.yaml', index: 1, creationTimestamp: ago(2 * 3_600_000) },
      spec: { type: 'vllm', model: 'facebook/opt-125m' },
      status: { phase: 'Ready', endpoint: { host: 'node01', port: 8000 } },
      events: [],
    },
    {
      apiVersion: 'aifb.io/v1alpha1',
      kind: 'MonitoringStack',
      metadata: { name: 'mon', file: '/r/mon.yaml', index: 0, creationTimestamp: ago(4 * 86_400_000) },
      spec: {},
      status: { phase: 'Ready', endpoints: { prometheus: { host: 'node02', port: 9090 }, grafana: { host: 'node02', port: 3000 } } },
      events: [],
    },
  ];
}

export class FakeSource implements ResourceSource {
  constructor(public items: ResourceView[]) {}
  async list(kind: Kind): Promise<ResourceView[]> {
    return this.items.filter((v) => v.kind === kind);
  }
  async get(kind: Kind, name: string): Promise<ResourceView | undefined> {
    return this.items.find((v) => v.kind === kind && v.metadata.name === name);
  }
}

export function opened(source: ResourceSource, problems: { file: string; message: string }[] = []): () => Promise<OpenedSource> {
  return async () => ({ source, origin: 'api', problems: async () => problems });
}

export interface Captured extends IO {
  out: string;
  err: string;
}

export function capture(): Captured {
  const c: Captured = {
    out: '',
    err: '',
    stdout: (s) => {
      c.out += s;
    },
    stderr: (s) => {
      c.err += s;
    },
  };
  return c;
}

/** Globals that point nowhere real: tests that use them inject a source. */
export const NO_GLOBALS = { resourcesDir: '/nonexistent/resources', stateDir: '/nonexistent/.aifb', serverUrl: 'http://127.0.0.1:1', tokenSource: 'no token' };
