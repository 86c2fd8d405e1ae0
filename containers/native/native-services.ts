// Services the local executor runs as programs on this host instead of
// containers, from the same spec: PostgreSQL from its server binaries, S3 (and
// MinIO's API) from s3rver, ChromaDB from the chromadb package's `chroma run`.
import { accessSync, constants, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Credentials, SecretRef } from '../../api/connection.js';
import type { ServiceSpec } from '../../api/schemas.js';
import { DEFAULT_DATABASE } from '../catalog.js';
import { credentialEnvFor } from '../service-container.js';

export const NATIVE_TYPES = ['postgresql', 's3', 'minio', 'chromadb'] as const;
export type NativeType = (typeof NATIVE_TYPES)[number];

/** Where every native service listens: the local executor publishes 127.0.0.1, and nothing else needs to reach it. */
export const NATIVE_HOST = '127.0.0.1';

const HERE = dirname(fileURLToPath(import.meta.url));
export const POSTGRES_MAIN = join(HERE, 'postgres-main.js');
export const S3_MAIN = join(HERE, 's3-main.js');

/**
 * The type this spec runs as natively, or undefined: only when it asks for no
 * container (spec.image, spec.binds only mean something to one), no command of
 * its own and no server elsewhere.
 */
export function nativeTypeOf(spec: Pick<ServiceSpec, 'type' | 'command' | 'endpoint' | 'image' | 'binds'>): NativeType | undefined {
  if (spec.command || spec.endpoint || spec.image !== undefined || spec.binds.length > 0) return undefined;
  return (NATIVE_TYPES as readonly string[]).includes(spec.type) ? (spec.type as NativeType) : undefined;
}

/** What the native service needs is not installed here: retrying cannot help; the message says what to install. */
export class NativeServiceUnavailable extends Error {
  override name = 'NativeServiceUnavailable';
}

export interface NativeLaunch {
  command: string[];
  env: Record<string, string>;
  /** The password (or S3 secret key) by reference: resolved by the executor into the process environment only. */
  secretEnv: Record<string, SecretRef>;
}

export interface NativeOptions {
  /** The port as it goes on the command line: a number, or ${AIFB_PORT} for the one the serve wrapper chooses. */
  port: number | string;
  /** The attempt's data folder (created by the service itself). */
  dataDir: string;
  /** The state folder: as root, PostgreSQL's own user is given search permission from here down to dataDir. */
  stateDir: string;
  credentials?: Credentials;
  database?: string;
  args: string[];
  /** Finds an installed package's entry file; tests swap it to play a missing package. */
  resolvePackage?: (name: string) => string;
  /** Where PostgreSQL's versioned binaries live (Debian's layout); tests point it elsewhere. */
  postgresRoot?: string;
}

const resolveFromHere = (name: string): string => createRequire(import.meta.url).resolve(name);

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The folder holding `postgres` and `initdb`: Debian's /usr/lib/postgresql/<major>/bin,
 * highest major first (several can be installed side by side), else a folder on PATH.
 */
export function postgresBinDir(root = '/usr/lib/postgresql', path = process.env.PATH ?? ''): string | undefined {
  const hasBoth = (dir: string) => executable(join(dir, 'postgres')) && executable(join(dir, 'initdb'));
  let majors: string[] = [];
  try {
    majors = readdirSync(root).filter((d) => /^\d+(\.\d+)?$/.test(d));
  } catch {
    /* no Debian-style install */
  }
  majors.sort((a, b) => Number.parseFloat(b) - Number.parseFloat(a));
  for (const major of majors) if (hasBoth(join(root, major, 'bin'))) return join(root, major, 'bin');
  return path.split(delimiter).filter(Boolean).find(hasBoth);
}

const elsewhere = (type: string) => `or set spec.endpoint to a ${type} that runs elsewhere, or spec.command to start one yourself`;

function postgresql(o: NativeOptions): NativeLaunch {
  const root = o.postgresRoot ?? '/usr/lib/postgresql';
  const bin = postgresBinDir(root);
  if (!bin) {
    throw new NativeServiceUnavailable(
      `spec.type postgresql: the local executor runs PostgreSQL from its server binaries, and there are none here (looked in ${root}/<version>/bin and on PATH for postgres and initdb): apt-get install postgresql, ${elsewhere('PostgreSQL')}`,
    );
  }
  // POSTGRES_USER and POSTGRES_PASSWORD, as the container takes them: the password stays a reference until the process starts.
  const { env, secretEnv } = credentialEnvFor('postgresql', o.credentials);
  return {
    command: [
      process.execPath,
      POSTGRES_MAIN,
      '--bin', bin,
      '--data', o.dataDir,
      '--state', o.stateDir,
      '--port', String(o.port),
      '--database', o.database ?? DEFAULT_DATABASE,
      '--',
      ...o.args,
    ],
    env,
    secretEnv,
  };
}

function s3(o: NativeOptions, type: NativeType): NativeLaunch {
  if (o.args.length > 0) throw new Error(`spec.args: a ${type} service the local executor runs is s3rver, which takes no arguments; remove spec.args, or set spec.command to run your own server`);
  try {
    (o.resolvePackage ?? resolveFromHere)('s3rver');
  } catch {
    throw new NativeServiceUnavailable(
      `spec.type ${type}: the local executor serves S3 with s3rver, an npm development dependency of aifb that is not installed here: run \`npm install s3rver\` (or \`npm ci\` without --omit=dev) in aifb's folder, ${elsewhere('S3 server')}`,
    );
  }
  // The access key and secret key in the variables MinIO's container takes.
  const { env, secretEnv } = credentialEnvFor(type, o.credentials);
  return { command: [process.execPath, S3_MAIN, '--data', o.dataDir, '--port', String(o.port), '--host', NATIVE_HOST], env, secretEnv };
}

function chromadb(o: NativeOptions): NativeLaunch {
  let cli: string;
  try {
    // `chroma` is the package's bin, dist/cli.mjs beside its entry; started with this Node, not whatever `node` PATH finds.
    cli = join(dirname((o.resolvePackage ?? resolveFromHere)('chromadb')), '..', 'cli.mjs');
  } catch {
    throw new NativeServiceUnavailable(`spec.type chromadb: the local executor runs \`chroma run\` from the chromadb npm package, which is not installed here: run \`npm ci\` in aifb's folder, ${elsewhere('ChromaDB')}`);
  }
  return {
    command: [process.execPath, cli, 'run', '--path', o.dataDir, '--host', NATIVE_HOST, '--port', String(o.port), ...o.args],
    env: { ANONYMIZED_TELEMETRY: 'FALSE' },
    secretEnv: {},
  };
}

/** The command that serves `type` on this host. Throws NativeServiceUnavailable when what it needs is missing. */
export function nativeLaunch(type: NativeType, opts: NativeOptions): NativeLaunch {
  if (type === 'postgresql') return postgresql(opts);
  if (type === 'chromadb') return chromadb(opts);
  return s3(opts, type);
}

/**
 * A port nobody listens on now on this host, for a server started here beside
 * others (the tests' own servers). A service's port is chosen where it runs,
 * by its serve wrapper (serve-script.ts). Another program could take it
 * before the server binds; the server then fails to start.
 */
export function freeLocalPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, NATIVE_HOST, () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
