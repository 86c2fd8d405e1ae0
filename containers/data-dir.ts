// Where aifb keeps what is big and used again: SIF images, Apptainer's cache
// and build space, model weights. One folder a user sets once, off the home quota.
import { isAbsolute, join, resolve } from 'node:path';

/** Who chose the data folder, for messages that say how to move it. */
export type DataRootSource = 'flag' | 'AIFB_DATA_DIR' | 'SCRATCH' | 'PROJECT';

export interface DataRoot {
  dir: string;
  source: DataRootSource;
}

/** What a source is called in a message: where the user changes it. */
const SOURCE_NAMES: Record<DataRootSource, string> = {
  flag: '--data-dir',
  AIFB_DATA_DIR: 'AIFB_DATA_DIR',
  SCRATCH: '$SCRATCH',
  PROJECT: '$PROJECT',
};

/** A folder that cannot be the data root, with the setting to change. */
export class DataDirError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DataDirError';
  }
}

/**
 * The data folder: an explicit one (`controller run --data-dir`), else
 * AIFB_DATA_DIR, else $SCRATCH/aifb, else $PROJECT/aifb (cluster file systems
 * with quotas far above a home's), else none, and every cache keeps the
 * default it had before (containers/sif; Apptainer's and the servers' own,
 * in the home). containers/pull.sh resolves it the same way.
 */
export function resolveDataRoot(override?: string, env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): DataRoot | undefined {
  const pick = (): { dir: string; source: DataRootSource } | undefined => {
    if (override) return { dir: override, source: 'flag' };
    if (env.AIFB_DATA_DIR) return { dir: env.AIFB_DATA_DIR, source: 'AIFB_DATA_DIR' };
    if (env.SCRATCH) return { dir: join(env.SCRATCH, 'aifb'), source: 'SCRATCH' };
    if (env.PROJECT) return { dir: join(env.PROJECT, 'aifb'), source: 'PROJECT' };
    return undefined;
  };
  const picked = pick();
  if (!picked) return undefined;
  const name = SOURCE_NAMES[picked.source];
  // Its folders go into `--bind src:dst` lists, which Apptainer splits at ":" and ",".
  if (/[:,]/.test(picked.dir) || /[\u0000-\u001f\u007f]/.test(picked.dir)) {
    throw new DataDirError(
      `${name} ${JSON.stringify(picked.dir)} cannot hold aifb's data: Apptainer binds cannot take a path with ":", "," or a control character; set ${picked.source === 'flag' ? '--data-dir' : 'AIFB_DATA_DIR'} to another folder`,
    );
  }
  return { dir: isAbsolute(picked.dir) ? resolve(picked.dir) : resolve(cwd, picked.dir), source: picked.source };
}

export interface DataPaths {
  root: DataRoot | undefined;
  /** AIFB_SIF_CACHE (the narrower setting wins), else <root>/sif, else <cwd>/containers/sif. */
  sifCache: string;
  /** <root>/apptainer/cache: APPTAINER_CACHEDIR, where a docker:// image's layers go. */
  apptainerCacheDir?: string;
  /** <root>/apptainer/tmp: APPTAINER_TMPDIR, where an image is assembled into a SIF. */
  apptainerTmpDir?: string;
}

export interface DataPathOptions {
  /** An explicit data folder, as `controller run --data-dir` gives it. */
  dataDir?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

export function dataPaths(opts: DataPathOptions = {}): DataPaths {
  const env = opts.env ?? process.env;
  const cwd = opts.cwd ?? process.cwd();
  const root = resolveDataRoot(opts.dataDir, env, cwd);
  const sifCache = env.AIFB_SIF_CACHE ? resolve(cwd, env.AIFB_SIF_CACHE) : root ? join(root.dir, 'sif') : join(cwd, 'containers', 'sif');
  if (!root) return { root, sifCache };
  return { root, sifCache, apptainerCacheDir: join(root.dir, 'apptainer', 'cache'), apptainerTmpDir: join(root.dir, 'apptainer', 'tmp') };
}

/**
 * The variables that move Apptainer's own cache and build space into the data
 * folder, for the `apptainer` process (not the container). A value already in
 * the environment is the user's or the site's and is kept.
 */
export function apptainerDirsEnv(paths: DataPaths, env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const out: Record<string, string> = {};
  if (paths.apptainerCacheDir && !env.APPTAINER_CACHEDIR) out.APPTAINER_CACHEDIR = paths.apptainerCacheDir;
  if (paths.apptainerTmpDir && !env.APPTAINER_TMPDIR) out.APPTAINER_TMPDIR = paths.apptainerTmpDir;
  return out;
}
