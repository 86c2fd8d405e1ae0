// What a Service launch runs: the user's own command; with the local executor,
// the type's server as a program on this host (containers/native); else the
// catalog's container through Apptainer. Each with the port, GPUs, binds and
// credentials (secrets by reference, for whoever starts the process), and each
// through the serve wrapper, which chooses the port where the service runs and
// says where it answers (containers/serve-script.ts).
import { mkdirSync } from 'node:fs';
import type { Credentials, SecretRef } from '../../api/connection.js';
import { runCommand } from '../../containers/apptainer.js';
import { gpusFor } from '../../containers/catalog.js';
import { nativeLaunch, nativeTypeOf } from '../../containers/native/native-services.js';
import { apptainerDirsEnv, dataPaths, type DataPaths } from '../../containers/data-dir.js';
import { credentialEnvFor, serviceContainer } from '../../containers/service-container.js';
import { PORT_REF, serveCommand, type EndpointHost } from '../../containers/serve-script.js';
import type { ServiceSpec } from '../api/schemas.js';

export interface ServiceLaunch {
  command: string[];
  env: Record<string, string>;
  secretEnv: Record<string, SecretRef>;
  gpus: number;
}

export interface ServiceCommandOptions {
  /** Folder for the container's writable data (binds), one per attempt. */
  dataDir: string;
  /** Default: the data folder's sif/ (see data). */
  sifCache?: string;
  /** The data folder and its caches; default from the environment (AIFB_DATA_DIR, $SCRATCH, $PROJECT: containers/data-dir.ts). */
  data?: DataPaths;
  /** The credentials the service runs with (see serviceCredentials). */
  credentials?: Credentials;
  /** Which executor runs it: the local one serves postgresql, s3, minio and chromadb natively. */
  executor: 'local' | 'slurm';
  /** The controller's state folder (a native PostgreSQL run as root must be able to reach its data in it). */
  stateDir: string;
  /** Where the wrapper writes the endpoint record, and which launch it writes it for. */
  endpointFile: string;
  launchId: string;
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

/** Under SLURM the node's name, or the address of spec.slurm.interface; locally this host, which is where the controller probes. */
function endpointHost(spec: ServiceSpec, executor: ServiceCommandOptions['executor']): EndpointHost {
  if (executor === 'local') return { address: '127.0.0.1' };
  return spec.slurm.interface ? { interface: spec.slurm.interface } : 'hostname';
}

interface Served {
  argv: string[];
  env: Record<string, string>;
  secretEnv: Record<string, SecretRef>;
  /** A pinned port; undefined: the job chooses one. */
  port: number | undefined;
  ports: number;
  /** A container's pass-through list (the wrapper hands these on); a native server sees the whole environment anyway. */
  passEnv?: string[];
}

function served(spec: ServiceSpec, opts: ServiceCommandOptions): Served {
  const { plain, refs } = splitEnv(spec.env);
  if (spec.command) {
    const argv = [...spec.command, ...spec.args];
    if (!spec.port && ![...argv, ...Object.values(plain)].some((v) => v.includes(PORT_REF))) {
      throw new Error(`spec.port: set the port the service listens on, or write ${PORT_REF} in spec.command or spec.args where it takes its port, for one the job chooses`);
    }
    // The same variables as the type's container takes (VLLM_API_KEY for vllm), so a native server reads them too.
    const { env, secretEnv } = credentialEnvFor(spec.type, opts.credentials);
    return { argv, env: { ...env, ...plain }, secretEnv: { ...secretEnv, ...refs }, port: spec.port, ports: 1 };
  }
  const native = opts.executor === 'local' ? nativeTypeOf(spec) : undefined;
  if (native) {
    // No container on this host: the same spec served by the type's own program.
    const { command, env, secretEnv } = nativeLaunch(native, {
      port: PORT_REF,
      dataDir: opts.dataDir,
      stateDir: opts.stateDir,
      credentials: opts.credentials,
      database: spec.database,
      args: spec.args,
    });
    return { argv: command, env: { ...env, ...plain }, secretEnv: { ...secretEnv, ...refs }, port: spec.port, ports: 1 };
  }
  const data = opts.data ?? dataPaths();
  const container = serviceContainer(
    { ...spec, env: plain },
    { sifCache: opts.sifCache ?? data.sifCache, requireCached: opts.executor === 'slurm', dataDir: opts.dataDir, credentials: opts.credentials, jobPort: true, data },
  );
  // Apptainer's own cache and build space too: a docker:// image is converted where the job runs.
  const apptainerDirs = apptainerDirsEnv(data);
  for (const dir of [...container.writableDirs, ...Object.values(apptainerDirs)]) mkdirSync(dir, { recursive: true });
  // Apptainer hands APPTAINERENV_<NAME> to the container as <NAME>, even with --cleanenv: nothing of the
  // environment goes on its command line, where every user of a shared node could read it (ps).
  const prefixed = <T>(vars: Record<string, T>) => Object.fromEntries(Object.entries(vars).map(([k, v]) => [`APPTAINERENV_${k}`, v]));
  return {
    argv: runCommand({ ...container, env: {} }),
    env: { ...prefixed(container.env), ...apptainerDirs },
    secretEnv: prefixed({ ...container.secretEnv, ...refs }),
    port: container.port,
    ports: container.ports,
    passEnv: container.passEnv,
  };
}

/**
 * Throws an error whose message names the field and the fix; a native server
 * that is not installed throws NativeServiceUnavailable, naming what to install.
 */
export function serviceLaunch(spec: ServiceSpec, opts: ServiceCommandOptions): ServiceLaunch {
  const s = served(spec, opts);
  const wrapped = serveCommand(s.argv, {
    port: s.port,
    ports: s.ports,
    endpointFile: opts.endpointFile,
    host: endpointHost(spec, opts.executor),
    launchId: opts.launchId,
    passEnv: s.passEnv,
  });
  return { command: wrapped.command, env: { ...s.env, ...wrapped.env }, secretEnv: s.secretEnv, gpus: gpusFor(spec) };
}
