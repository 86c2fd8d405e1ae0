// Turns a Service spec into the options of one container run: image from the catalog
// or spec.image, the type's serving defaults, the user's args/env/binds on top.
import { join } from 'node:path';
import type { ServiceSpec } from '../api/schemas.js';
import type { FieldProblem } from '../api/problems.js';
import { bindProblems, envProblems, type ContainerOptions } from './apptainer.js';
import { catalogEntry, gpusFor, resolveImage, type ImageType, type ResolvedImage } from './catalog.js';
import { ContainerSpecError, throwIfProblems } from './errors.js';

export interface ServiceContainer extends ContainerOptions {
  gpus: number;
  binds: string[];
  env: Record<string, string>;
  args: string[];
  port: number;
  fromCatalog: boolean;
  /** Host folders behind the writable binds; the caller creates them before the run. */
  writableDirs: string[];
}

export interface ServiceContainerOptions {
  sifCache?: string;
  /** Host folder under which each writable container path gets its own subfolder. */
  dataDir?: string;
}

type ContainerSpec = Pick<ServiceSpec, 'image' | 'model' | 'port' | 'gpus' | 'args' | 'env' | 'binds'> & { type: ImageType };

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
    resolved = resolveImage(spec, { sifCache: opts.sifCache });
  } catch (e) {
    if (!(e instanceof ContainerSpecError)) throw e;
    problems.push(...e.problems);
  }
  const entry = catalogEntry(spec.type);
  const port = spec.port ?? entry?.port;
  if (port === undefined) {
    problems.push({ path: 'spec.port', message: `type "${spec.type}" has no default port; set spec.port to the port the container listens on` });
  }
  problems.push(...bindProblems(spec.binds), ...envProblems(spec.env));
  throwIfProblems(problems);
  const { image, fromCatalog } = resolved!;
  const defaults = entry?.serve({ port: port!, model: spec.model }) ?? { args: [], env: {} };
  const userTargets = new Set(spec.binds.map((b) => b.split(':')[1] ?? b.split(':')[0]));
  const writable = opts.dataDir ? (entry?.writable ?? []).filter((p) => !userTargets.has(p)) : [];
  const writableDirs = writable.map((p) => join(opts.dataDir!, dirName(p)));
  return {
    image,
    fromCatalog,
    port: port!,
    gpus: gpusFor(spec),
    args: spec.args.length > 0 ? [...spec.args] : defaults.args,
    env: { ...defaults.env, ...spec.env },
    binds: [...writable.map((p, i) => `${writableDirs[i]}:${p}`), ...spec.binds],
    writableDirs,
  };
}
