// What a Service launch runs: the user's own command, or the catalog's
// container for its type through Apptainer, with the port, GPUs and binds.
import { mkdirSync } from 'node:fs';
import { runCommand } from '../../containers/apptainer.js';
import { gpusFor } from '../../containers/catalog.js';
import { serviceContainer } from '../../containers/service-container.js';
import type { ServiceSpec } from '../api/schemas.js';

export interface ServiceLaunch {
  command: string[];
  env: Record<string, string>;
  port: number;
  gpus: number;
}

export interface ServiceCommandOptions {
  /** Folder for the container's writable data (binds), one per attempt. */
  dataDir: string;
  sifCache?: string;
}

/** Throws an error whose message names the field and the fix. */
export function serviceLaunch(spec: ServiceSpec, opts: ServiceCommandOptions): ServiceLaunch {
  if (spec.command) {
    if (!spec.port) throw new Error('spec.port: set the port the service listens on, so readiness can be checked');
    return { command: [...spec.command, ...spec.args], env: spec.env, port: spec.port, gpus: gpusFor(spec) };
  }
  const container = serviceContainer(spec, { sifCache: opts.sifCache, dataDir: opts.dataDir });
  for (const dir of container.writableDirs) mkdirSync(dir, { recursive: true });
  return { command: runCommand(container), env: {}, port: container.port, gpus: container.gpus };
}
