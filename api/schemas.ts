// The resource API (apiVersion aifb.io/v1alpha1): zod schemas for Service,
// Benchmark and MonitoringStack. The Benchmark's workload is a parameter: the
// workload types register themselves in clients/registry.ts, which assembles
// the full schemas (controller/resources.ts) from this factory.
import { z } from 'zod';
import { Connection, Credentials, SCHEMES, SecretRef } from './connection.js';
import { Duration, Metadata, Name } from './fields.js';
import { GeneratorCheck } from './generator.js';
import { Slo } from './slo.js';

export { Duration, Metadata, Name, Size, Weights } from './fields.js';
export { Slo } from './slo.js';

export const API_VERSION = 'aifb.io/v1alpha1';
export const KINDS = ['Service', 'Benchmark', 'MonitoringStack'] as const;
export type Kind = (typeof KINDS)[number];

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
  /**
   * A job with GPUs (a Service's `gpus`): CPUs and memory for each GPU
   * (`--cpus-per-gpu`, `--mem-per-gpu`). Default 4 and 32G, which every GPU
   * node we know of can give each of its GPUs; a node's fair share is often
   * more (MeluXina: 32 and 120G). Not with cpusPerTask or mem, which replace them.
   */
  cpusPerGpu: z.number().int().positive().optional(),
  memPerGpu: z.string().optional(),
  gres: z.string().optional(),
  qos: z.string().optional(),
  constraint: z.string().optional(),
  exclusive: z.boolean().optional(),
  maxPendingTime: Duration.optional(),
  extraDirectives: z.array(z.string()).optional(),
  /**
   * Shell lines the job runs before its work, on the compute node: what the site
   * needs there, e.g. `module load Apptainer`. After the controller's own
   * `--job-setup` lines; a line that fails ends the job with its reason.
   */
  setup: z.array(z.string().min(1).regex(/^[^\n\r]*$/, 'one shell line per item')).optional(),
  /**
   * A Service: the network interface (e.g. `ib0`) whose IPv4 address the job
   * publishes as the service's host, instead of the node's name.
   */
  interface: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$/, 'a network interface name such as ib0 or eth0: up to 15 letters, digits, ".", "_" or "-"')
    .optional(),
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
  /** How often to probe while it starts. */
  interval: Duration.default(2_000),
  timeout: Duration.default(600_000),
  /** How often to probe once Ready: slowly, so a thousand Ready services cost nothing; three misses in a row make it lost. */
  watchInterval: Duration.default(30_000),
});

/** How each Service type is spoken to, when the Service does not say. */
export const DEFAULT_SCHEMES: Record<(typeof SERVICE_TYPES)[number], Connection['scheme']> = {
  vllm: 'http',
  ollama: 'http',
  triton: 'http',
  chromadb: 'http',
  faiss: 'tcp',
  weaviate: 'http',
  postgresql: 'postgresql',
  s3: 'http',
  minio: 'http',
  'file-storage': 'tcp',
  http: 'http',
};

export const Endpoint = z.strictObject({
  host: z.string().default('127.0.0.1'),
  port: z.number().int().min(1).max(65535),
  /** Default by service type: http for the HTTP servers, postgresql for PostgreSQL. */
  scheme: z.enum(SCHEMES).optional(),
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
  /** A value, or a secret by reference (`{env: NAME}` or `{file: /path}`): read where the service starts, never shown or written. */
  env: z.record(z.string(), z.union([z.string(), SecretRef])).default({}),
  binds: z.array(z.string()).default([]),
  /**
   * Variables of the environment the service starts in (a job inherits the
   * controller's) that its container sees too. A container runs with
   * Apptainer's --cleanenv: it sees spec.env, the GPU, cache and hub variables
   * aifb passes (PASS_ENV in containers/service-container.ts) and these, nothing else.
   */
  passEnv: z
    .array(
      z
        .string()
        .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be a variable name: letters, digits and "_", not starting with a digit, e.g. NCCL_DEBUG')
        .refine((n) => !['HOME', 'PATH'].includes(n) && !/^(APPTAINER|SINGULARITY)/.test(n), {
          message: 'cannot be passed: Apptainer sets HOME and PATH in a container itself and keeps APPTAINER_* and SINGULARITY* for its own settings; remove it, or give a value in spec.env',
        }),
    )
    .optional(),
  readiness: Readiness.default({ interval: 2_000, timeout: 600_000, watchInterval: 30_000 }),
  retries: Retries.default({ max: 3, backoff: 10_000, maxBackoff: 300_000 }),
  slurm: SlurmSpec.default({}),
  /** A service that already runs elsewhere: nothing is launched, only checked. */
  endpoint: Endpoint.optional(),
  /**
   * How clients authenticate, as references (`{env: NAME}` or `{file: /path}`).
   * A PostgreSQL or MinIO the controller starts gets a generated password in
   * the state folder when none is given; a vLLM gets `token` as its API key.
   */
  credentials: Credentials.optional(),
  /** PostgreSQL: the database clients use (and the container creates). Default: aifb. */
  database: z.string().min(1).optional(),
  /** S3/MinIO: the region clients sign requests for. Default: us-east-1. */
  region: z.string().min(1).optional(),
});

/**
 * A sweep runs the load once per point, each for the load's warmup and
 * duration, and reports one row per point: the throughput/latency curve.
 */
export const Sweep = z
  .strictObject({
    /** Open loop: one point per rate (requests per second). */
    rates: z.array(z.number().positive()).min(1).optional(),
    /** Closed loop: one point per number of workers. */
    concurrencies: z.array(z.number().int().positive()).min(1).optional(),
    /** Open loop: start at `from` req/s and multiply by `factor` until the server stops keeping up or the SLO breaks. */
    knee: z
      .strictObject({
        from: z.number().positive(),
        factor: z.number().gt(1).default(2),
        maxPoints: z.number().int().min(2).max(50).default(10),
      })
      .optional(),
    /**
     * Either loop, at the load's own rate or workers: one point per value of a
     * workload parameter (HNSW efSearch, IVF nprobe, batch sizes), which the
     * workload names (its sweepParameters).
     */
    parameter: z
      .strictObject({
        name: z.string().regex(/^[a-z][a-zA-Z0-9]*$/, 'must be a workload parameter name, e.g. efSearch'),
        values: z.array(z.number()).min(1),
      })
      .optional(),
    /** End the sweep at the first point that breaks spec.slo. */
    stopOnSloBreak: z.boolean().default(true),
  })
  .refine((s) => [s.rates, s.concurrencies, s.knee, s.parameter].filter((x) => x !== undefined).length === 1, {
    message: 'set one of rates (open loop), concurrencies (closed loop), knee (open loop) or parameter (either)',
  });
export type Sweep = z.output<typeof Sweep>;

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
    /** Run the load at several rates or concurrencies, one result row per point. */
    sweep: Sweep.optional(),
    /** Several ranks: end every rank when the first one finishes its share (IO500's stonewall), so all measure the same window. */
    stonewall: z.boolean().default(false),
  })
  .refine((l) => l.mode !== 'open' || l.rate !== undefined || l.sweep?.rates !== undefined || l.sweep?.knee !== undefined, {
    message: 'open loop needs a rate (requests per second), or a sweep of rates',
    path: ['rate'],
  })
  .refine((l) => !l.sweep || l.sweep.parameter !== undefined || (l.mode === 'open' ? l.sweep.concurrencies === undefined : l.sweep.concurrencies !== undefined), {
    message: 'a closed-loop sweep lists concurrencies (workers per point); an open-loop sweep lists rates or finds the knee; either may sweep a parameter',
    path: ['sweep'],
  })
  .refine((l) => l.duration !== undefined || l.maxRequests !== undefined, {
    message: 'set duration (e.g. 30s) or maxRequests, or both, so the run ends',
    path: ['duration'],
  });

export const Runner = z.strictObject({
  nodes: z.number().int().positive().default(1),
  tasksPerNode: z.number().int().positive().default(1),
  /**
   * Worker threads in each runner process, each a rank of its own (its share
   * of the load, its own connections and result files): one process uses
   * more than one core without more SLURM tasks.
   */
  threads: z.number().int().min(1).max(64, 'at most 64 threads per process; use more tasksPerNode or nodes for more').default(1),
  slurm: SlurmSpec.default({}),
});
export type Runner = z.output<typeof Runner>;

/** The runner's processes (nodes x tasksPerNode) and the ranks the load is split into (x threads). */
export function runnerRanks(r: Pick<Runner, 'nodes' | 'tasksPerNode' | 'threads'>): { processes: number; ranks: number } {
  const processes = r.nodes * r.tasksPerNode;
  return { processes, ranks: processes * r.threads };
}

export const REPORT_FORMATS = ['json', 'csv', 'html', 'prometheus'] as const;
export const Reports = z.strictObject({
  formats: z.array(z.enum(REPORT_FORMATS)).default(['json', 'csv']),
  /** Where reports go; default `reports/<benchmark>/` beside the resources folder. */
  dir: z.string().optional(),
});

/**
 * Where a Benchmark's results go besides its reports: a Pushgateway URL, or a
 * MonitoringStack whose Pushgateway it is; with `interval`, the live counts are
 * pushed while the run goes on too. Without any, the controller's
 * `--pushgateway` applies.
 */
const HttpUrl = z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL, e.g. http://mel2345:9091' });
export const PushgatewayTarget = z
  .strictObject({
    url: HttpUrl.optional(),
    monitoringStackRef: Name.optional(),
    interval: Duration.optional(),
  })
  .refine((p) => !(p.url && p.monitoringStackRef), { message: 'set url or monitoringStackRef, not both', path: ['url'] })
  .refine((p) => p.interval === undefined || p.interval >= 1000, { message: 'at least 1s: a Pushgateway is not a stream', path: ['interval'] });
export const Pushgateway = z.union([HttpUrl.transform((url) => ({ url })), PushgatewayTarget], {
  error: 'give the Pushgateway as an http:// URL (http://mel2345:9091), or as { url | monitoringStackRef, interval }',
});
export type Pushgateway = z.output<typeof Pushgateway>;

/** The Benchmark's fields other than its workload, which the registry supplies. */
const benchmarkFields = {
  serviceRef: Name.optional(),
  service: ServiceSpec.optional(),
  load: Load,
  slo: Slo.optional(),
  runner: Runner.default({ nodes: 1, tasksPerNode: 1, threads: 1, slurm: {} }),
  retries: Retries.default({ max: 3, backoff: 10_000, maxBackoff: 300_000 }),
  reports: Reports.default({ formats: ['json', 'csv'] }),
  pushgateway: Pushgateway.optional(),
};

/**
 * The Benchmark spec for a given workload schema. `check` adds the problems
 * that need to know the workload type (a service it cannot talk to).
 */
export function benchmarkSpec<W extends z.ZodType>(workload: W, check?: (spec: BenchmarkSpecShape<W>, ctx: z.RefinementCtx) => void) {
  return z
    .strictObject({ ...benchmarkFields, workload })
    .refine((s) => !(s.serviceRef && s.service), { message: 'set serviceRef or service, not both', path: ['serviceRef'] })
    .refine((s) => !s.load.sweep || runnerRanks(s.runner).ranks === 1, {
      message: 'a sweep judges each point on the requests of one runner: set runner.nodes, runner.tasksPerNode and runner.threads to 1',
      path: ['load', 'sweep'],
    })
    .refine((s) => !s.slo?.earlyStop || runnerRanks(s.runner).ranks === 1, {
      message: 'early stopping judges the requests of one runner: set runner.nodes, runner.tasksPerNode and runner.threads to 1, or drop slo.earlyStop',
      path: ['slo', 'earlyStop'],
    })
    .superRefine((s, ctx) => check?.(s as BenchmarkSpecShape<W>, ctx));
}

export type BenchmarkSpecShape<W extends z.ZodType> = z.output<z.ZodObject<typeof benchmarkFields & { workload: W }>>;

const Component = () =>
  z.strictObject({
    enabled: z.boolean().default(true),
    image: z.string().optional(),
    /**
     * Pins the port; without it the stack's job chooses a free one on its node
     * when it starts (status.endpoints says which), so stacks and other users'
     * servers on a shared node never collide.
     */
    port: z.number().int().min(1).max(65535).optional(),
  });

export const MonitoringStackSpec = z.strictObject({
  prometheus: Component()
    .extend({
      /** How often Prometheus scrapes the Pushgateway and the controller's /metrics. */
      scrapeInterval: Duration.default(5_000),
    })
    .default({ enabled: true, scrapeInterval: 5_000 }),
  pushgateway: Component().default({ enabled: true }),
  grafana: Component()
    .extend({
      adminUser: z.string().min(1).default('admin'),
      /** Default: a password generated into the state folder (owner-only), never admin/admin. */
      adminPassword: SecretRef.optional(),
    })
    .default({ enabled: true, adminUser: 'admin' }),
  /** How a user reaches the stack from a laptop: the SSH tunnel command in status is built from these. */
  access: z
    .strictObject({
      /** The login node to tunnel through (MeluXina: login.lxp.lu); default: where the controller was submitted from. */
      loginHost: z.string().min(1).optional(),
      sshPort: z.number().int().min(1).max(65535).default(22),
      /** Default: the user the controller runs as. */
      user: z.string().min(1).optional(),
    })
    .default({ sshPort: 22 }),
  slurm: SlurmSpec.default({}),
}).superRefine((s, ctx) => {
  // Caught here, not on the node after the queue wait: two components cannot listen on one port.
  const pinned = new Map<number, string>();
  for (const c of ['prometheus', 'pushgateway', 'grafana'] as const) {
    const port = s[c].enabled ? s[c].port : undefined;
    if (port === undefined) continue;
    const other = pinned.get(port);
    if (other) ctx.addIssue({ code: 'custom', path: [c, 'port'], message: `${port} is also spec.${other}.port; give each component its own port, or remove this one so that the job chooses a free port` });
    else pinned.set(port, c);
  }
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

/** A declared metric in the status block: mean and percentiles, and for counts the total and rate. */
export const MetricSummary = z.object({
  unit: z.string(),
  mean: z.number(),
  p50: z.number(),
  p99: z.number(),
  /** Counts only: the total over the measured window, per second, and in the busiest second. */
  sum: z.number().optional(),
  perSecond: z.number().optional(),
  peakPerSecond: z.number().optional(),
  /** Timings only: p99 with each failed request counted as infinitely slow; null when failures fill it. */
  p99WithFailures: z.number().nullable().optional(),
});

export const ResultsSummary = z.object({
  requests: z.number(),
  errors: z.number(),
  errorRate: z.number(),
  durationS: z.number(),
  throughput: z.number(),
  meanMs: z.number().optional(),
  p50Ms: z.number(),
  p90Ms: z.number(),
  p95Ms: z.number(),
  p99Ms: z.number(),
  p999Ms: z.number(),
  maxMs: z.number(),
  sloPassed: z.boolean().optional(),
  /** The workload's declared metrics over all operations, in their own units (ms for timings). */
  metrics: z.record(z.string(), MetricSummary).optional(),
  /** p99 latency with each failed request counted as infinitely slow; null when failures fill it. */
  p99MsWithFailures: z.number().nullable().optional(),
  /** With per-request SLO limits: good requests per second. */
  goodput: z.number().optional(),
  /** Why the run ended: duration, maxRequests, settled (slo.earlyStop), signal or error. */
  endedBy: z.string().optional(),
  /** The most frequent error reasons and their counts (at most five). */
  errorReasons: z.record(z.string(), z.number()).optional(),
  /** Open loop: p99 of the lag between intended and actual send time, ms. */
  sendLagP99Ms: z.number().optional(),
  /** Open loop: whether the load generator sent what was asked, on time (api/generator.ts). */
  generator: GeneratorCheck.optional(),
  /** Several ranks: how far apart their measured windows started, ms. */
  startSkewMs: z.number().optional(),
  /** A sweep: how many points ran, why it ended, and which point (its rate or workers) the rest describes. */
  sweep: z.object({ points: z.number(), ended: z.string(), primary: z.number(), at: z.string() }).optional(),
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
    /** Service: how clients reach it (credentials as references only). */
    endpoint: Connection.partial({ scheme: true }).loose().optional(),
    /** Service, while Ready: when its job's time limit ends it (ISO 8601); absent when nothing will. */
    endsAt: z.string().optional(),
    /** Benchmark: its service's attempt `attempt` ends before the run would, and is to be started again first. */
    renewal: z.object({ attempt: z.number(), message: z.string() }).optional(),
    /** MonitoringStack: where each component answers. */
    endpoints: z.record(z.string(), z.object({ host: z.string(), port: z.number() })).optional(),
    /** MonitoringStack: the SSH command that forwards every component to a laptop's localhost. */
    tunnel: z.string().optional(),
    /** MonitoringStack: Grafana's admin user and where its password is (a reference, never the value). */
    grafana: z.object({ url: z.string(), adminUser: z.string(), adminPassword: SecretRef }).optional(),
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
export const MonitoringStackResource = resource('MonitoringStack', MonitoringStackSpec);

/** The three resource schemas, with the Benchmark's workload union plugged in. */
export function resourceSchemas<W extends z.ZodType>(workload: W, check?: Parameters<typeof benchmarkSpec<W>>[1]) {
  return {
    Service: ServiceResource,
    Benchmark: resource('Benchmark', benchmarkSpec(workload, check)),
    MonitoringStack: MonitoringStackResource,
  } as const;
}

export type SlurmSpec = z.output<typeof SlurmSpec>;
export type ServiceType = (typeof SERVICE_TYPES)[number];
export type ServiceSpec = z.output<typeof ServiceSpec>;
export type MonitoringStackSpec = z.output<typeof MonitoringStackSpec>;
export type Load = z.output<typeof Load>;
export type Condition = z.output<typeof Condition>;
export type Status = z.output<typeof Status>;
export type MetricSummary = z.output<typeof MetricSummary>;
export type ResultsSummary = z.output<typeof ResultsSummary>;
export type ServiceResource = z.output<typeof ServiceResource>;
export type MonitoringStackResource = z.output<typeof MonitoringStackResource>;
