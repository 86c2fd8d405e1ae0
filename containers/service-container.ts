// Turns a Service spec into the options of one container run: image from the catalog
// or spec.image, the type's serving defaults, the user's args/env/binds on top.
import { join } from 'node:path';
import type { ServiceSpec } from '../api/schemas.js';
import type { FieldProblem } from '../api/problems.js';
import { bindProblems, envProblems, type ContainerOptions } from './apptainer.js';
import type { Credentials, SecretRef } from '../api/connection.js';
import { atPort, catalogEntry, gpusFor, resolveImage, type CredentialEnv, type ImageType, type ResolvedImage } from './catalog.js';
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
}

/** A Service spec whose env holds values only (secrets by reference are passed apart, see secretEnv). */
type ContainerSpec = Pick<ServiceSpec, 'image' | 'model' | 'port' | 'gpus' | 'args' | 'binds' | 'database'> & { type: ImageType; env: Record<string, string> };

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
  const args = spec.args.length > 0 ? [...spec.args] : defaults.args;
  const env = { ...defaults.env, ...credentialEnv, ...spec.env };
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
  return {
    image,
    fromCatalog,
    port,
    ports: entry?.ports ?? 1,
    gpus: gpusFor(spec),
    args,
    env,
    secretEnv,
    binds: [...writable.map((p, i) => `${writableDirs[i]}:${p}`), ...spec.binds],
    writableDirs,
  };
}
