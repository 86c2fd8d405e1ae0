// Resolves aifbctl's global options (resources folder, state folder, server URL)
// from flags, then environment, then what a running controller left on disk.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { resolvePaths } from '../runtime/paths.js';
import { TOKEN_FILE } from '../server/auth.js';

export interface GlobalOptions {
  resources?: string;
  state?: string;
  server?: string;
  tokenFile?: string;
  caFile?: string;
}

export interface Globals {
  resourcesDir: string;
  stateDir: string;
  serverUrl: string;
  /** The status API's bearer token, when aifbctl found one. */
  token?: string;
  /** Where the token came from, or why none was found: for the message of a 401. */
  tokenSource: string;
  /** CA certificate (PEM) to trust for an HTTPS status API. */
  ca?: Buffer;
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

/** --token-file, else $AIFB_TOKEN_FILE, else $AIFB_TOKEN, else the controller's <state>/api-token when this user can read it. */
async function findToken(opts: GlobalOptions, env: NodeJS.ProcessEnv, stateDir: string): Promise<{ token?: string; tokenSource: string }> {
  const named = opts.tokenFile ?? env.AIFB_TOKEN_FILE;
  if (named) {
    try {
      return { token: (await readFile(named, 'utf8')).split(/\r?\n/)[0].trim(), tokenSource: `the token in ${named}` };
    } catch (e) {
      throw new Error(`cannot read the token file ${named} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); check --token-file or AIFB_TOKEN_FILE`);
    }
  }
  if (env.AIFB_TOKEN) return { token: env.AIFB_TOKEN.trim(), tokenSource: 'the token in $AIFB_TOKEN' };
  const own = path.join(stateDir, TOKEN_FILE);
  try {
    return { token: (await readFile(own, 'utf8')).split(/\r?\n/)[0].trim(), tokenSource: `the token in ${own}` };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return { tokenSource: code === 'ENOENT' ? `no token (${own} does not exist here)` : `no token (${own} is not readable: ${code})` };
  }
}

export async function resolveGlobals(opts: GlobalOptions, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Promise<Globals> {
  const { resourcesDir, stateDir } = resolvePaths(opts, env, cwd);
  const serverUrl = (opts.server ?? env.AIFB_SERVER ?? (await urlFromStateDir(stateDir)) ?? DEFAULT_SERVER).replace(/\/+$/, '');
  const caFile = opts.caFile ?? env.AIFB_CA_FILE;
  let ca: Buffer | undefined;
  if (caFile) {
    try {
      ca = await readFile(caFile);
    } catch (e) {
      throw new Error(`cannot read the CA file ${caFile} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); check --ca-file or AIFB_CA_FILE`);
    }
  }
  return { resourcesDir, stateDir, serverUrl, ...(await findToken(opts, env, stateDir)), ...(ca ? { ca } : {}) };
}

/** The message of anything thrown, for an `Error: ...` line. */
export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
