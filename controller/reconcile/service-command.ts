// What a Service launch runs: the user's own command; with the local executor,
// the type's server as a program on this host (containers/native); else the
// catalog's container through Apptainer. Each with the port, GPUs, binds and
// credentials (secrets by reference, for whoever starts the process).
import { mkdirSync } from 'node:fs';
import type { Credentials, SecretRef } from '../../api/connection.js';
import { runCommand } from '../../containers/apptainer.js';
import { gpusFor } from '../../containers/catalog.js';
import { freeLocalPort, nativeLaunch, nativeTypeOf } from '../../containers/native/native-services.js';
import { credentialEnvFor, serviceContainer } from '../../containers/service-container.js';
import type { ServiceSpec } from '../api/schemas.js';

export interface ServiceLaunch {
  command: string[];
  env: Record<string, string>;
  secretEnv: Record<string, SecretRef>;
  port: number;
  gpus: number;
}

export interface ServiceCommandOptions {
  /** Folder for the container's writable data (binds), one per attempt. */
  dataDir: string;
  sifCache?: string;
  /** The credentials the service runs with (see serviceCredentials). */
  credentials?: Credentials;
  /** Which executor runs it: the local one serves postgresql, s3, minio and chromadb natively. */
  executor: 'local' | 'slurm';
  /** The controller's state folder (a native PostgreSQL run as root must be able to reach its data in it). */
  stateDir: string;
}

/** spec.env split into plain values and secrets by reference. */
function splitEnv(env: ServiceSpec['env']): { plain: Record<string, string>; refs: Record<string, SecretRef> } {
  const plain: Record<string, string> = {};
  const refs: Record<string, SecretRef> = {};
  for (const [k, v] of Object.entries(env)) {
    if (typeof v === 'string') plain[k] = v;
    else refs[k] = v;
  }
  return { plain, refs };
}

/**
 * Throws an error whose message names the field and the fix; a native server
 * that is not installed throws NativeServiceUnavailable, naming what to install.
 */
export async function serviceLaunch(spec: ServiceSpec, opts: ServiceCommandOptions): Promise<ServiceLaunch> {
  const { plain, refs } = splitEnv(spec.env);
  if (spec.command) {
    if (!spec.port) throw new Error('spec.port: set the port the service listens on, so readiness can be checked');
    // The same variables as the type's container takes (VLLM_API_KEY for vllm), so a native server reads them too.
    const { env, secretEnv } = credentialEnvFor(spec.type, opts.credentials);
    return { command: [...spec.command, ...spec.args], env: { ...env, ...plain }, secretEnv: { ...secretEnv, ...refs }, port: spec.port, gpus: gpusFor(spec) };
  }
  const native = opts.executor === 'local' ? nativeTypeOf(spec) : undefined;
  if (native) {
    // No container on this host: the same spec served by the type's own program. Without
    // spec.port a free port, not the catalog's fixed one, which a second service would collide with.
    const port = spec.port ?? (await freeLocalPort());
    const { command, env, secretEnv } = nativeLaunch(native, {
      port,
      dataDir: opts.dataDir,
      stateDir: opts.stateDir,
      credentials: opts.credentials,
      database: spec.database,
      args: spec.args,
    });
    return { command, env: { ...env, ...plain }, secretEnv: { ...secretEnv, ...refs }, port, gpus: gpusFor(spec) };
  }
  const container = serviceContainer({ ...spec, env: plain }, { sifCache: opts.sifCache, dataDir: opts.dataDir, credentials: opts.credentials });
  for (const dir of container.writableDirs) mkdirSync(dir, { recursive: true });
  // Apptainer hands APPTAINERENV_<NAME> to the container as <NAME>: nothing of the environment goes on
  // its command line, where every user of a shared node could read it (ps).
  const prefixed = <T>(vars: Record<string, T>) => Object.fromEntries(Object.entries(vars).map(([k, v]) => [`APPTAINERENV_${k}`, v]));
  return {
    command: runCommand({ ...container, env: {} }),
    env: prefixed(container.env),
    secretEnv: prefixed({ ...container.secretEnv, ...refs }),
    port: container.port,
    gpus: container.gpus,
  };
}
