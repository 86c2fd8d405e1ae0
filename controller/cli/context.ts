// Resolves aifbctl's global options (resources folder, state folder, server URL)
// from flags, then environment, then what a running controller left on disk.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { resolvePaths } from '../runtime/paths.js';

export interface GlobalOptions {
  resources?: string;
  state?: string;
  server?: string;
}

export interface Globals {
  resourcesDir: string;
  stateDir: string;
  serverUrl: string;
}

/** Where every verb writes; tests pass collectors instead of the process streams. */
export interface IO {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
}

export const DEFAULT_SERVER = 'http://127.0.0.1:8484';

/** File the controller writes when its API is up, so the CLI finds a non-default port. */
export const CONTROLLER_FILE = 'controller.json';

async function urlFromStateDir(stateDir: string): Promise<string | undefined> {
  try {
    const parsed = JSON.parse(await readFile(path.join(stateDir, CONTROLLER_FILE), 'utf8')) as { url?: unknown };
    return typeof parsed.url === 'string' && parsed.url !== '' ? parsed.url : undefined;
  } catch {
    // No controller has run here yet, or it left a half-written file: use the default.
    return undefined;
  }
}

export async function resolveGlobals(opts: GlobalOptions, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Promise<Globals> {
  const { resourcesDir, stateDir } = resolvePaths(opts, env, cwd);
  const serverUrl = (opts.server ?? env.AIFB_SERVER ?? (await urlFromStateDir(stateDir)) ?? DEFAULT_SERVER).replace(/\/+$/, '');
  return { resourcesDir, stateDir, serverUrl };
}

/** The message of anything thrown, for an `Error: ...` line. */
export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
