// The image catalog: for each service type and monitoring component, its image,
// default port, how its container serves on a port, and where its SIF lives in the cache.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { SERVICE_TYPES, type ServiceSpec } from '../api/schemas.js';
import { dataPaths } from './data-dir.js';
import { throwIfProblems } from './errors.js';
import { imageProblems } from './image-ref.js';

export const MONITORING_COMPONENTS = ['prometheus', 'pushgateway', 'grafana'] as const;
export type MonitoringComponent = (typeof MONITORING_COMPONENTS)[number];
export type ServiceType = ServiceSpec['type'];
export type ImageType = ServiceType | MonitoringComponent;

export interface ServeContext {
  /** The port as it goes into arguments and environment: a number, or the job's reference to the one it chose (serve-script.ts). */
  port: string;
  /** The port `offset` above it, in the same form (Triton's gRPC and metrics ports). */
  portAbove(offset: number): string;
  model?: string;
  /** PostgreSQL: the database to create (spec.database, default aifb). */
  database?: string;
}

/**
 * How the container takes its credentials: the environment variable for each
 * field. The values never go on a command line: the user name is plain
 * environment, the password and token are passed by reference (see
 * service-container.ts) and resolved where the container starts.
 */
export interface CredentialEnv {
  /** The variable that takes the user name, and the name used when the spec gives none. */
  user?: { env: string; default: string };
  /** The variable that takes the password; the controller generates one when the spec gives none. */
  password?: string;
  /** The variable that takes a bearer token (an API key), when the spec gives one. */
  token?: string;
}

/** What the container needs, beyond the image, to serve: arguments after the image, and environment. */
export interface ServeDefaults {
  args: string[];
  env: Record<string, string>;
}

export interface CatalogEntry {
  type: ImageType;
  /** The registry reference Apptainer pulls. */
  image: string;
  /** File name stem in the SIF cache: `<cache>/<sif>.sif`. Types sharing an image share a SIF. */
  sif: string;
  port: number;
  /** Consecutive ports it takes from its port up, when more than one. */
  ports?: number;
  /** Started with `--nv` (one GPU) unless the spec says otherwise. */
  wantsGpu: boolean;
  /** Container paths the service writes to; a SIF is read-only, so each needs a writable bind. */
  writable: string[];
  /** Model used when the spec names none (vllm needs one to start). */
  defaultModel?: string;
  /**
   * The variables that say where the server keeps what it downloads or builds
   * (model weights, compiled kernels), each with its folder under the data
   * root (containers/data-dir.ts): left to the server, they fill the home quota.
   */
  caches?: Record<string, string>;
  credentialEnv?: CredentialEnv;
  serve(ctx: ServeContext): ServeDefaults;
}

export const DEFAULT_DATABASE = 'aifb';
export const DEFAULT_REGION = 'us-east-1';

type EntryWithoutType = Omit<CatalogEntry, 'type'>;

const minio: EntryWithoutType = {
  image: 'docker://minio/minio:RELEASE.2024-10-13T13-34-11Z',
  sif: 'minio',
  port: 9000,
  wantsGpu: false,
  writable: ['/data'],
  credentialEnv: { user: { env: 'MINIO_ROOT_USER', default: 'aifb' }, password: 'MINIO_ROOT_PASSWORD' },
  serve: ({ port }) => ({ args: ['server', '/data', '--address', `:${port}`], env: {} }),
};

const ENTRIES: Partial<Record<ImageType, EntryWithoutType>> = {
  vllm: {
    image: 'docker://vllm/vllm-openai:v0.8.5',
    sif: 'vllm',
    port: 8000,
    wantsGpu: true,
    writable: [],
    defaultModel: 'facebook/opt-125m',
    // Weights through the Hugging Face hub; torch.compile and CUDA graph caches in VLLM_CACHE_ROOT.
    caches: { HF_HOME: 'models/huggingface', VLLM_CACHE_ROOT: 'cache/vllm' },
    // vLLM reads its --api-key from VLLM_API_KEY: a token given by reference stays off the command line.
    credentialEnv: { token: 'VLLM_API_KEY' },
    // The image's entrypoint is vLLM's OpenAI server; these become its flags.
    serve: ({ port, model }) => ({ args: ['--model', model ?? 'facebook/opt-125m', '--port', port, '--host', '0.0.0.0'], env: {} }),
  },
  ollama: {
    image: 'docker://ollama/ollama:0.5.7',
    sif: 'ollama',
    port: 11434,
    wantsGpu: true,
    writable: [],
    caches: { OLLAMA_MODELS: 'models/ollama' },
    // Models are pulled through the API after start; `serve` replaces the image's CMD.
    serve: ({ port }) => ({ args: ['serve'], env: { OLLAMA_HOST: `0.0.0.0:${port}` } }),
  },
  triton: {
    image: 'docker://nvcr.io/nvidia/tritonserver:24.08-py3',
    sif: 'triton',
    port: 8000,
    ports: 3,
    wantsGpu: true,
    writable: [],
    // Its vLLM and Python backends fetch weights through the Hugging Face hub.
    caches: { HF_HOME: 'models/huggingface' },
    // For triton, `model` is the model repository as seen inside the container (bind it there).
    serve: ({ port, portAbove, model }) => ({
      args: ['tritonserver', `--model-repository=${model ?? '/models'}`, `--http-port=${port}`, `--grpc-port=${portAbove(1)}`, `--metrics-port=${portAbove(2)}`],
      env: {},
    }),
  },
  chromadb: {
    image: 'docker://chromadb/chroma:1.0.0',
    sif: 'chromadb',
    port: 8000,
    wantsGpu: false,
    writable: ['/data'],
    serve: ({ port }) => ({
      args: ['run', '--host', '0.0.0.0', '--port', port, '--path', '/data'],
      env: { IS_PERSISTENT: 'TRUE', PERSIST_DIRECTORY: '/data', ANONYMIZED_TELEMETRY: 'FALSE' },
    }),
  },
  weaviate: {
    image: 'docker://semitechnologies/weaviate:1.25.0',
    sif: 'weaviate',
    port: 8080,
    wantsGpu: false,
    writable: ['/var/lib/weaviate'],
    serve: ({ port }) => ({
      args: ['--host', '0.0.0.0', '--port', port, '--scheme', 'http'],
      env: {
        AUTHENTICATION_ANONYMOUS_ACCESS_ENABLED: 'true',
        PERSISTENCE_DATA_PATH: '/var/lib/weaviate',
        DEFAULT_VECTORIZER_MODULE: 'none',
        QUERY_DEFAULTS_LIMIT: '25',
        CLUSTER_HOSTNAME: 'node1',
      },
    }),
  },
  postgresql: {
    image: 'docker://postgres:16.4',
    sif: 'postgresql',
    port: 5432,
    wantsGpu: false,
    // The image's entrypoint initialises PGDATA and puts its socket in /var/run/postgresql.
    writable: ['/var/lib/postgresql/data', '/var/run/postgresql'],
    credentialEnv: { user: { env: 'POSTGRES_USER', default: 'aifb' }, password: 'POSTGRES_PASSWORD' },
    serve: ({ port, database }) => ({
      args: ['postgres', '-p', port],
      env: {
        POSTGRES_DB: database ?? DEFAULT_DATABASE,
        PGPORT: port,
        PGDATA: '/var/lib/postgresql/data',
      },
    }),
  },
  minio,
  // s3 is served by MinIO: the same image and SIF.
  s3: minio,
  prometheus: {
    image: 'docker://prom/prometheus:v2.53.0',
    sif: 'prometheus',
    port: 9090,
    wantsGpu: false,
    writable: ['/prometheus'],
    serve: ({ port }) => ({
      args: ['--config.file=/etc/prometheus/prometheus.yml', '--storage.tsdb.path=/prometheus', `--web.listen-address=:${port}`],
      env: {},
    }),
  },
  pushgateway: {
    image: 'docker://prom/pushgateway:v1.9.0',
    sif: 'pushgateway',
    port: 9091,
    wantsGpu: false,
    writable: [],
    serve: ({ port }) => ({ args: [`--web.listen-address=:${port}`], env: {} }),
  },
  grafana: {
    image: 'docker://grafana/grafana:11.1.0',
    sif: 'grafana',
    port: 3000,
    wantsGpu: false,
    writable: ['/var/lib/grafana', '/var/log/grafana'],
    serve: ({ port }) => ({
      args: [],
      env: {
        GF_SERVER_HTTP_ADDR: '0.0.0.0',
        GF_SERVER_HTTP_PORT: port,
        GF_PATHS_DATA: '/var/lib/grafana',
        GF_PATHS_LOGS: '/var/log/grafana',
      },
    }),
  },
};

/** A fixed port, as serve() takes it. */
export const atPort = (port: number): Pick<ServeContext, 'port' | 'portAbove'> => ({ port: String(port), portAbove: (offset) => String(port + offset) });

export const IMAGE_TYPES: readonly ImageType[] = [...SERVICE_TYPES, ...MONITORING_COMPONENTS];

/** The catalog entry for a type, or undefined for types that run no container (faiss, file-storage, http). */
export function catalogEntry(type: string): CatalogEntry | undefined {
  const entry = (ENTRIES as Record<string, EntryWithoutType | undefined>)[type];
  return entry ? { ...entry, type: type as ImageType } : undefined;
}

/** Every type that has an image, in a stable order. */
export function catalogTypes(): ImageType[] {
  return IMAGE_TYPES.filter((t) => ENTRIES[t] !== undefined);
}

/** One line per distinct SIF, `<sif> <ref> [alias...]`: the list containers/pull.sh reads. */
export function catalogImageLines(): string[] {
  const bySif = new Map<string, { image: string; types: ImageType[] }>();
  for (const type of catalogTypes()) {
    const e = ENTRIES[type]!;
    const seen = bySif.get(e.sif);
    if (seen) seen.types.push(type);
    else bySif.set(e.sif, { image: e.image, types: [type] });
  }
  return [...bySif].map(([sif, { image, types }]) => [sif, image, ...types.filter((t) => t !== sif)].join(' '));
}

/** GPUs a service gets: spec.gpus when set, else one for types that want a GPU (vllm, ollama, triton). */
export function gpusFor(spec: { type: ImageType; gpus?: number }): number {
  return spec.gpus ?? (catalogEntry(spec.type)?.wantsGpu ? 1 : 0);
}

export function sifPath(cacheDir: string, type: ImageType): string {
  const entry = catalogEntry(type);
  return join(cacheDir, `${entry?.sif ?? type}.sif`);
}

/** The cache containers/pull.sh fills by default: AIFB_SIF_CACHE, else the data folder's sif/, else containers/sif. */
export function defaultSifCache(env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): string {
  return dataPaths({ env, cwd }).sifCache;
}

export interface ResolvedImage {
  /** A SIF path or a registry reference, ready to follow `apptainer run`. */
  image: string;
  /** True when the image came from the catalog rather than spec.image. */
  fromCatalog: boolean;
}

export interface ResolveOptions {
  sifCache?: string;
  /**
   * A catalog image must be in sifCache (under SLURM): converting a registry
   * image on the compute node costs every job minutes, fills the home quota
   * and meets the registry's rate limit, where the node reaches it at all.
   */
  requireCached?: boolean;
  /** Field path used in problems; a MonitoringStack passes e.g. `spec.grafana.image`. */
  field?: string;
}

/**
 * spec.image when set (validated), else the cached SIF when the cache has it,
 * else the catalog's registry reference (Apptainer pulls it on first run).
 */
export function resolveImage(spec: { type: ImageType; image?: string }, opts: ResolveOptions = {}): ResolvedImage {
  const field = opts.field ?? 'spec.image';
  if (spec.image !== undefined) {
    throwIfProblems(imageProblems(spec.image, field));
    return { image: spec.image, fromCatalog: false };
  }
  const entry = catalogEntry(spec.type);
  if (!entry) {
    throwIfProblems([
      {
        path: field,
        message: `type "${spec.type}" has no catalog image; set ${field} to a SIF path or docker:// reference, or use spec.command or spec.endpoint`,
      },
    ]);
  }
  if (opts.sifCache) {
    const sif = sifPath(opts.sifCache, spec.type);
    if (existsSync(sif)) return { image: sif, fromCatalog: true };
  }
  if (opts.requireCached) {
    const where = opts.sifCache ?? defaultSifCache();
    throwIfProblems([
      {
        path: field,
        message: `the ${spec.type} image is not in the SIF cache (${sifPath(where, spec.type)}): run \`containers/pull.sh ${spec.type}\` on the login node (with the controller's AIFB_DATA_DIR or AIFB_SIF_CACHE it fills ${where}; \`--cache ${where}\` names it outright), or set ${field} to a SIF path, or to ${entry!.image} for the job to pull it on the compute node`,
      },
    ]);
  }
  return { image: entry!.image, fromCatalog: true };
}
