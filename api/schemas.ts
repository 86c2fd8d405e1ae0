// The resource API (apiVersion aifb.io/v1alpha1): zod schemas for Service,
// Benchmark and MonitoringStack. Every type in the project comes from here.
import { z } from 'zod';
import { parseDuration, parseSize } from './units.js';

export const API_VERSION = 'aifb.io/v1alpha1';
export const KINDS = ['Service', 'Benchmark', 'MonitoringStack'] as const;
export type Kind = (typeof KINDS)[number];

/** `30s`, `5m`, or a number of seconds; parsed to milliseconds. */
export const Duration = z
  .union([z.number().nonnegative(), z.string()])
  .transform((v, ctx) => {
    try {
      return parseDuration(v);
    } catch (e) {
      ctx.addIssue({ code: 'custom', message: (e as Error).message });
      return z.NEVER;
    }
  });

/** `10MB`, `4KiB`, or a number of bytes; parsed to bytes. */
export const Size = z
  .union([z.number().int().nonnegative(), z.string()])
  .transform((v, ctx) => {
    try {
      return parseSize(v);
    } catch (e) {
      ctx.addIssue({ code: 'custom', message: (e as Error).message });
      return z.NEVER;
    }
  });

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
export const Name = z
  .string()
  .max(63, 'must be at most 63 characters')
  .regex(DNS_LABEL, 'must be a DNS label: lowercase letters, digits and "-", starting and ending with a letter or digit');

export const Metadata = z.strictObject({
  name: Name,
  labels: z.record(z.string(), z.string()).optional(),
  annotations: z.record(z.string(), z.string()).optional(),
});

/** Weights that need not sum to 1: they are normalised. */
const Weights = z
  .record(z.string(), z.number().nonnegative())
  .refine((w) => Object.values(w).some((x) => x > 0), 'at least one weight must be greater than 0');

export const Retries = z.strictObject({
  max: z.number().int().nonnegative().default(3),
  backoff: Duration.default(10_000),
  maxBackoff: Duration.default(300_000),
});

export const SlurmSpec = z.strictObject({
  partition: z.string().optional(),
  account: z.string().optional(),
  time: z.string().optional(),
  nodes: z.number().int().positive().optional(),
  ntasks: z.number().int().positive().optional(),
  ntasksPerNode: z.number().int().positive().optional(),
  cpusPerTask: z.number().int().positive().optional(),
  mem: z.string().optional(),
  gres: z.string().optional(),
  qos: z.string().optional(),
  constraint: z.string().optional(),
  exclusive: z.boolean().optional(),
  maxPendingTime: Duration.optional(),
  extraDirectives: z.array(z.string()).optional(),
});

export const SERVICE_TYPES = [
  'vllm',
  'ollama',
  'triton',
  'chromadb',
  'faiss',
  'weaviate',
  'postgresql',
  's3',
  'minio',
  'file-storage',
  'http',
] as const;

export const Readiness = z.strictObject({
  /** Default by service type: HTTP for the servers that have a health path (vllm /health, ...), TCP for the rest. */
  type: z.enum(['http', 'tcp', 'none']).optional(),
  path: z.string().optional(),
  interval: Duration.default(2_000),
  timeout: Duration.default(600_000),
});

export const Endpoint = z.strictObject({
  host: z.string().default('127.0.0.1'),
  port: z.number().int().min(1).max(65535),
  scheme: z.enum(['http', 'https']).default('http'),
});

export const ServiceSpec = z.strictObject({
  type: z.enum(SERVICE_TYPES),
  image: z.string().optional(),
  model: z.string().optional(),
  port: z.number().int().min(1).max(65535).optional(),
  /** GPUs for the service (`--gres=gpu:N` and `--nv`); default from the catalog: 1 for vllm, ollama, triton. */
  gpus: z.number().int().nonnegative().optional(),
  /** Local executor: the command that runs the service on this host. */
  command: z.array(z.string()).min(1).optional(),
  args: z.array(z.string()).default([]),
  env: z.record(z.string(), z.string()).default({}),
  binds: z.array(z.string()).default([]),
  readiness: Readiness.default({ interval: 2_000, timeout: 600_000 }),
  retries: Retries.default({ max: 3, backoff: 10_000, maxBackoff: 300_000 }),
  slurm: SlurmSpec.default({}),
  /** A service that already runs elsewhere: nothing is launched, only checked. */
  endpoint: Endpoint.optional(),
});

export const FileStorageWorkload = z.strictObject({
  type: z.literal('file-storage'),
  basePath: z.string().min(1).default('/tmp/aifb-file-storage'),
  fsync: z.boolean().default(false),
  operationMix: Weights.default({ write: 0.4, read: 0.4, stat: 0.1, delete: 0.1 }).refine(
    (w) => Object.keys(w).every((k) => ['write', 'read', 'stat', 'delete'].includes(k)),
    'operations are write, read, stat and delete',
  ),
  fileSizes: z.record(z.string(), z.number().nonnegative()).default({ '4KB': 1 }),
  /** Files written before the run starts, so reads have something to read. */
  prefill: z.number().int().nonnegative().default(16),
});

/** An OpenAI-compatible inference server: vLLM, and Ollama or Triton through their OpenAI endpoints. */
export const LlmWorkload = z.strictObject({
  type: z.literal('llm'),
  api: z.enum(['chat', 'completions']).default('chat'),
  /** Default: the first model the server lists at /v1/models. */
  model: z.string().optional(),
  prompts: z.array(z.string().min(1)).min(1).default(['Explain in one paragraph what a GPU does.']),
  maxTokens: z.number().int().positive().default(64),
  temperature: z.number().min(0).max(2).default(0),
  /** Streaming measures time to first token as well. */
  stream: z.boolean().default(true),
  timeout: Duration.default(120_000),
});

export const Workload = z.discriminatedUnion('type', [FileStorageWorkload, LlmWorkload]);

export const Load = z
  .strictObject({
    mode: z.enum(['closed', 'open']).default('closed'),
    /** Closed loop: this many workers, each sending its next request when the last returns. */
    workers: z.number().int().positive().default(4),
    /** Open loop: requests per second. */
    rate: z.number().positive().optional(),
    arrival: z.enum(['constant', 'poisson', 'gamma']).default('constant'),
    /** Gamma arrivals: coefficient of variation of inter-arrival times (1 = Poisson, >1 bursty). */
    burstiness: z.number().positive().default(1),
    /** Cap on requests in flight (open loop); arrivals past it are counted as dropped. */
    concurrency: z.number().int().positive().default(64),
    duration: Duration.optional(),
    warmup: Duration.default(0),
    maxRequests: z.number().int().positive().optional(),
    seed: z.number().int().default(1),
  })
  .refine((l) => l.mode !== 'open' || l.rate !== undefined, { message: 'open loop needs a rate (requests per second)', path: ['rate'] })
  .refine((l) => l.duration !== undefined || l.maxRequests !== undefined, {
    message: 'set duration (e.g. 30s) or maxRequests, or both, so the run ends',
    path: ['duration'],
  });

export const Slo = z.strictObject({
  p50: Duration.optional(),
  p95: Duration.optional(),
  p99: Duration.optional(),
  errorRate: z.number().min(0).max(1).optional(),
  minThroughput: z.number().nonnegative().optional(),
});

export const Runner = z.strictObject({
  nodes: z.number().int().positive().default(1),
  tasksPerNode: z.number().int().positive().default(1),
  slurm: SlurmSpec.default({}),
});

export const REPORT_FORMATS = ['json', 'csv', 'html', 'prometheus'] as const;
export const Reports = z.strictObject({
  formats: z.array(z.enum(REPORT_FORMATS)).default(['json', 'csv']),
  /** Where reports go; default `reports/<benchmark>/` beside the resources folder. */
  dir: z.string().optional(),
});

export const BenchmarkSpec = z
  .strictObject({
    serviceRef: Name.optional(),
    service: ServiceSpec.optional(),
    workload: Workload,
    load: Load,
    slo: Slo.optional(),
    runner: Runner.default({ nodes: 1, tasksPerNode: 1, slurm: {} }),
    retries: Retries.default({ max: 3, backoff: 10_000, maxBackoff: 300_000 }),
    reports: Reports.default({ formats: ['json', 'csv'] }),
    pushgateway: z.url().optional(),
  })
  .refine((s) => !(s.serviceRef && s.service), { message: 'set serviceRef or service, not both', path: ['serviceRef'] });

const Component = (port: number) =>
  z.strictObject({
    enabled: z.boolean().default(true),
    image: z.string().optional(),
    port: z.number().int().min(1).max(65535).default(port),
  });

export const MonitoringStackSpec = z.strictObject({
  prometheus: Component(9090).default({ enabled: true, port: 9090 }),
  pushgateway: Component(9091).default({ enabled: true, port: 9091 }),
  grafana: Component(3000).default({ enabled: true, port: 3000 }),
  slurm: SlurmSpec.default({}),
});

export const Condition = z.object({
  type: z.string(),
  status: z.enum(['True', 'False', 'Unknown']),
  reason: z.string(),
  message: z.string().default(''),
  lastTransitionTime: z.string(),
});

export const PHASES = ['Pending', 'Waiting', 'Starting', 'Running', 'Collecting', 'Ready', 'Retrying', 'Succeeded', 'Failed', 'Terminating', 'Invalid'] as const;
export type Phase = (typeof PHASES)[number];

export const ResultsSummary = z.object({
  requests: z.number(),
  errors: z.number(),
  errorRate: z.number(),
  durationS: z.number(),
  throughput: z.number(),
  p50Ms: z.number(),
  p90Ms: z.number(),
  p95Ms: z.number(),
  p99Ms: z.number(),
  p999Ms: z.number(),
  maxMs: z.number(),
  sloPassed: z.boolean().optional(),
});

/** Written only by the controller; read loosely so an old status never blocks a file. */
export const Status = z
  .object({
    phase: z.enum(PHASES).optional(),
    observedGeneration: z.number().optional(),
    conditions: z.array(Condition).optional(),
    attempts: z.number().optional(),
    message: z.string().optional(),
    startedAt: z.string().optional(),
    completedAt: z.string().optional(),
    endpoint: z.object({ host: z.string(), port: z.number() }).optional(),
    /** MonitoringStack: where each component answers. */
    endpoints: z.record(z.string(), z.object({ host: z.string(), port: z.number() })).optional(),
    jobs: z.array(z.record(z.string(), z.unknown())).optional(),
    runId: z.string().optional(),
    /** While running: counts so far, from the runner's progress lines. */
    progress: z
      .object({ elapsedMs: z.number(), requests: z.number(), errors: z.number(), rps: z.number(), p99Ms: z.number() })
      .optional(),
    results: ResultsSummary.optional(),
    reports: z.record(z.string(), z.string()).optional(),
  })
  .passthrough();

const resource = <K extends Kind, S extends z.ZodType>(kind: K, spec: S) =>
  z.strictObject({
    apiVersion: z.literal(API_VERSION),
    kind: z.literal(kind),
    metadata: Metadata,
    spec,
    status: z.unknown().optional(),
  });

export const ServiceResource = resource('Service', ServiceSpec);
export const BenchmarkResource = resource('Benchmark', BenchmarkSpec);
export const MonitoringStackResource = resource('MonitoringStack', MonitoringStackSpec);

export const RESOURCE_SCHEMAS = {
  Service: ServiceResource,
  Benchmark: BenchmarkResource,
  MonitoringStack: MonitoringStackResource,
} as const;

export type Duration = z.output<typeof Duration>;
export type SlurmSpec = z.output<typeof SlurmSpec>;
export type ServiceType = (typeof SERVICE_TYPES)[number];
export type ServiceSpec = z.output<typeof ServiceSpec>;
export type BenchmarkSpec = z.output<typeof BenchmarkSpec>;
export type MonitoringStackSpec = z.output<typeof MonitoringStackSpec>;
export type Workload = z.output<typeof Workload>;
export type FileStorageWorkload = z.output<typeof FileStorageWorkload>;
export type LlmWorkload = z.output<typeof LlmWorkload>;
export type Load = z.output<typeof Load>;
export type Slo = z.output<typeof Slo>;
export type Condition = z.output<typeof Condition>;
export type Status = z.output<typeof Status>;
export type ResultsSummary = z.output<typeof ResultsSummary>;
export type ServiceResource = z.output<typeof ServiceResource>;
export type BenchmarkResource = z.output<typeof BenchmarkResource>;
export type MonitoringStackResource = z.output<typeof MonitoringStackResource>;
export type Resource = ServiceResource | BenchmarkResource | MonitoringStackResource;
export type SpecOf<K extends Kind> = z.output<(typeof RESOURCE_SCHEMAS)[K]>['spec'];
