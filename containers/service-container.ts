// Turns a Service spec into the options of one container run: image from the catalog
// or spec.image, the type's serving defaults, the user's args/env/binds on top.
import { join } from 'node:path';
import type { ServiceSpec } from '../api/schemas.js';
import type { FieldProblem } from '../api/problems.js';
import { bindProblems, envProblems, type ContainerOptions } from './apptainer.js';
import type { Credentials, SecretRef } from '../api/connection.js';
import { atPort, catalogEntry, gpusFor, resolveImage, type CredentialEnv, type ImageType, type ResolvedImage } from './catalog.js';
import type { DataPaths } from './data-dir.js';
import { ContainerSpecError, throwIfProblems } from './errors.js';
import { JOB_PORTS, PORT_REF } from './serve-script.js';

export interface ServiceContainer extends ContainerOptions {
  gpus: number;
  binds: string[];
  env: Record<string, string>;
  args: string[];
  /** Container variable -> secret reference (password, token); resolved where the container starts, never on its command line. */
  secretEnv: Record<string, SecretRef>;
  /** The port it listens on when that is fixed (always, unless jobPort): spec.port, else the catalog's when nothing refers to the job's port. */
  port: number | undefined;
  /** Consecutive ports it takes from its port up. */
  ports: number;
  fromCatalog: boolean;
  /** Host folders behind the writable binds; the caller creates them before the run. */
  writableDirs: string[];
  /** Always: the container sees only env, secretEnv and passEnv, never the whole environment it is started from. */
  cleanEnv: true;
  /** Variables of the environment it starts in (the job's, on its node) that it sees too, where set: PASS_ENV and spec.passEnv. */
  passEnv: string[];
}

export interface ServiceContainerOptions {
  sifCache?: string;
  /** A catalog image must be in sifCache (see resolveImage). */
  requireCached?: boolean;
  /** Host folder under which each writable container path gets its own subfolder. */
  dataDir?: string;
  /** The credentials the service runs with (spec.credentials, with a generated password where needed). */
  credentials?: Credentials;
  /**
   * Args and env refer to the port as ${AIFB_PORT}, which the serve wrapper
   * (serve-script.ts) sets when the job runs, instead of holding a number.
   */
  jobPort?: boolean;
  /** With a data root, the server's caches (catalog `caches`) default to folders under it, bound at the same path. */
  data?: DataPaths;
  /** The environment the container is started from (the controller's, which its jobs inherit): a cache variable set there is passed as it is. */
  hostEnv?: NodeJS.ProcessEnv;
}

/**
 * What a container sees of the environment it starts in, besides spec.env and
 * the catalog's settings, when set there: it runs with --cleanenv, so that
 * nothing else of the controller's environment (tokens, passwords, the SLURM_*
 * of its own job) reaches a server, and a server's behaviour does not hang on
 * what the controller happened to have set.
 *  - GPU selection, which SLURM sets per job for the GPUs it allocated
 *    (CUDA_VISIBLE_DEVICES, GPU_DEVICE_ORDINAL; ROCR_ and ZE_ on AMD and Intel):
 *    without it a server may pick a GPU of another job on a shared node.
 *  - Where models and compiled kernels are kept, when the user or the site set
 *    it (HF_HOME, ...): their setting beats the data root's default (see
 *    `caches` in catalog.ts), and spec.env beats both.
 *  - Offline and mirror settings of the Hugging Face hub, for nodes without internet.
 * Not SLURM_*: vLLM's and PyTorch's launchers read them and would take the
 * server for a step of a multi-task job. Not HF_TOKEN or other secrets: give
 * them in spec.env by reference. Proxies and TERM are not listed: Apptainer
 * passes them even with --cleanenv. Anything else a site needs (NCCL_*, ...)
 * goes in spec.passEnv.
 */
export const PASS_ENV: readonly string[] = [
  'CUDA_VISIBLE_DEVICES',
  'NVIDIA_VISIBLE_DEVICES',
  'GPU_DEVICE_ORDINAL',
  'ROCR_VISIBLE_DEVICES',
  'HIP_VISIBLE_DEVICES',
  'ZE_AFFINITY_MASK',
  'HF_HOME',
  'HF_HUB_CACHE',
  'HF_HUB_OFFLINE',
  'HF_ENDPOINT',
  'TRANSFORMERS_OFFLINE',
  'VLLM_CACHE_ROOT',
  'OLLAMA_MODELS',
  'XDG_CACHE_HOME',
];

/** A Service spec whose env holds values only (secrets by reference are passed apart, see secretEnv). */
type ContainerSpec = Pick<ServiceSpec, 'image' | 'model' | 'port' | 'gpus' | 'args' | 'binds' | 'database'> &
  Partial<Pick<ServiceSpec, 'passEnv'>> & { type: ImageType; env: Record<string, string> };

/**
 * The container's credential variables: the user name as plain environment,
 * the password and token as references for whoever starts the container.
 */
/** The type's credential variables for what the spec gave, without the catalog's default user (a user's own command). */
export function credentialEnvFor(type: ImageType, given: Credentials | undefined): { env: Record<string, string>; secretEnv: Record<string, SecretRef> } {
  return credentialsFor(catalogEntry(type)?.credentialEnv, given, false);
}

function credentialsFor(
  vars: CredentialEnv | undefined,
  given: Credentials | undefined,
  defaults = true,
): { env: Record<string, string>; secretEnv: Record<string, SecretRef> } {
  const env: Record<string, string> = {};
  const secretEnv: Record<string, SecretRef> = {};
  if (!vars) return { env, secretEnv };
  const user = given?.user ?? (defaults ? vars.user?.default : undefined);
  if (vars.user && user !== undefined) env[vars.user.env] = user;
  if (vars.password && given?.password) secretEnv[vars.password] = given.password;
  if (vars.token && given?.token) secretEnv[vars.token] = given.token;
  return { env, secretEnv };
}

const dirName = (containerPath: string) => containerPath.replace(/^\/+/, '').replace(/[^A-Za-z0-9._-]+/g, '_') || 'root';

/**
 * vLLM spreads a model over its GPUs only when told: without
 * --tensor-parallel-size, `gpus: 4` would hold four GPUs and use one. Args
 * that choose tensor or pipeline parallelism themselves are the user's word.
 */
function withParallelism(type: ImageType, args: string[], gpus: number): string[] {
  if (type !== 'vllm' || gpus < 2) return args;
  const chosen = args.some((a) => /^(--tensor-parallel-size|-tp|--pipeline-parallel-size|-pp)(=.*)?$/.test(a));
  return chosen ? args : [...args, '--tensor-parallel-size', String(gpus)];
}

/** The catalog's cache folders under the data root, for the variables neither spec.env nor the starting environment sets. */
function cacheDirs(type: ImageType, spec: ContainerSpec, opts: ServiceContainerOptions): Record<string, string> {
  const root = opts.data?.root;
  const caches = catalogEntry(type)?.caches;
  if (!root || !caches) return {};
  const hostEnv = opts.hostEnv ?? process.env;
  return Object.fromEntries(Object.entries(caches).filter(([name]) => spec.env[name] === undefined && !hostEnv[name]).map(([name, dir]) => [name, join(root.dir, dir)]));
}

/**
 * spec.args replace the catalog's arguments (like a Docker CMD); spec.env overrides single
 * variables; spec.gpus, when unset, is the catalog's (one GPU for vllm, ollama, triton).
 */
export function serviceContainer(spec: ContainerSpec, opts: ServiceContainerOptions = {}): ServiceContainer {
  // Every problem at once, so one edit of the file fixes them all.
  const problems: FieldProblem[] = [];
  let resolved: ResolvedImage | undefined;
  try {
    resolved = resolveImage(spec, { sifCache: opts.sifCache, requireCached: opts.requireCached });
  } catch (e) {
    if (!(e instanceof ContainerSpecError)) throw e;
    problems.push(...e.problems);
  }
  const entry = catalogEntry(spec.type);
  const fixed = spec.port ?? entry?.port;
  const defaults = entry
    ? entry.serve({ ...(opts.jobPort ? JOB_PORTS : atPort(spec.port ?? entry.port)), model: spec.model, database: spec.database })
    : { args: [], env: {} };
  const { env: credentialEnv, secretEnv } = credentialsFor(entry?.credentialEnv, opts.credentials);
  const gpus = gpusFor(spec);
  const args = withParallelism(spec.type, spec.args.length > 0 ? [...spec.args] : defaults.args, gpus);
  const caches = cacheDirs(spec.type, spec, opts);
  const env = { ...defaults.env, ...caches, ...credentialEnv, ...spec.env };
  // The job chooses the port only where the server is told it: user args that
  // name none leave it listening where the type does by default.
  const chosen = opts.jobPort === true && [...args, ...Object.values(env)].some((v) => v.includes(PORT_REF));
  const port = chosen ? spec.port : fixed;
  if (port === undefined && !chosen) {
    const how = opts.jobPort ? `, or write ${PORT_REF} in spec.args where the server takes its port, for one the job chooses` : '';
    problems.push({ path: 'spec.port', message: `type "${spec.type}" has no default port; set spec.port to the port the container listens on${how}` });
  }
  problems.push(...bindProblems(spec.binds), ...envProblems(spec.env));
  throwIfProblems(problems);
  const { image, fromCatalog } = resolved!;
  const userTargets = new Set(spec.binds.map((b) => b.split(':')[1] ?? b.split(':')[0]));
  const writable = opts.dataDir ? (entry?.writable ?? []).filter((p) => !userTargets.has(p)) : [];
  const writableDirs = writable.map((p) => join(opts.dataDir!, dirName(p)));
  // Bound at their own path, so the folder a server names in its log is the one on the cluster's file system.
  const cacheFolders = [...new Set(Object.values(caches))];
  return {
    image,
    fromCatalog,
    port,
    ports: entry?.ports ?? 1,
    gpus,
    args,
    env,
    secretEnv,
    binds: [...writable.map((p, i) => `${writableDirs[i]}:${p}`), ...cacheFolders.map((d) => `${d}:${d}`), ...spec.binds],
    writableDirs: [...writableDirs, ...cacheFolders],
    cleanEnv: true,
    passEnv: [...new Set([...PASS_ENV, ...(spec.passEnv ?? [])])],
  };
}
