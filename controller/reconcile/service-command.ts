// What a Service launch runs: the user's own command, or the catalog's
// container for its type through Apptainer, with the port, GPUs and binds.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { runCommand } from '../../containers/apptainer.js';
import { catalogEntry, resolveImage } from '../../containers/catalog.js';
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
  apptainer?: string;
}

/** Throws a ContainerSpecError or a plain Error naming the field and the fix. */
export function serviceLaunch(spec: ServiceSpec, opts: ServiceCommandOptions): ServiceLaunch {
  const entry = catalogEntry(spec.type);
  const gpus = spec.gpus ?? (entry?.wantsGpu ? 1 : 0);
  if (spec.command) {
    if (!spec.port) throw new Error('spec.port: set the port the service listens on, so readiness can be checked');
    return { command: [...spec.command, ...spec.args], env: spec.env, port: spec.port, gpus };
  }
  const port = spec.port ?? entry?.port;
  if (!port) throw new Error(`spec.port: type "${spec.type}" has no default port; set spec.port`);
  const { image } = resolveImage({ type: spec.type, image: spec.image }, { sifCache: opts.sifCache });
  const serve = entry?.serve({ port, model: spec.model ?? entry.defaultModel }) ?? { args: [], env: {} };
  // A SIF is read-only: every path the service writes to gets a folder of its own in the state folder.
  const writableBinds = (entry?.writable ?? []).map((path, i) => {
    const host = join(opts.dataDir, `bind-${i}`);
    mkdirSync(host, { recursive: true });
    return `${host}:${path}`;
  });
  const command = runCommand({
    image,
    gpus,
    binds: [...writableBinds, ...spec.binds],
    env: { ...serve.env, ...spec.env },
    args: spec.args.length > 0 ? spec.args : serve.args,
    bin: opts.apptainer,
  });
  return { command, env: {}, port, gpus };
}
