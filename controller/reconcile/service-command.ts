// What a Service launch runs: the user's own command, or the catalog's
// container for its type through Apptainer, with the port, GPUs, binds and
// credentials (secrets by reference, for whoever starts the process).
import { mkdirSync } from 'node:fs';
import type { Credentials, SecretRef } from '../../api/connection.js';
import { runCommand } from '../../containers/apptainer.js';
import { gpusFor } from '../../containers/catalog.js';
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

/** Throws an error whose message names the field and the fix. */
export function serviceLaunch(spec: ServiceSpec, opts: ServiceCommandOptions): ServiceLaunch {
  const { plain, refs } = splitEnv(spec.env);
  if (spec.command) {
    if (!spec.port) throw new Error('spec.port: set the port the service listens on, so readiness can be checked');
    // The same variables as the type's container takes (VLLM_API_KEY for vllm), so a native server reads them too.
    const { env, secretEnv } = credentialEnvFor(spec.type, opts.credentials);
    return { command: [...spec.command, ...spec.args], env: { ...env, ...plain }, secretEnv: { ...secretEnv, ...refs }, port: spec.port, gpus: gpusFor(spec) };
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
