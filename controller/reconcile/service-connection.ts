// What a Service publishes in its status for clients: scheme, host, port, the
// per-type fields (database, region) and credentials as references. A
// PostgreSQL or MinIO the controller starts without a given password gets a
// generated one, in a file only its owner can read, referenced from here.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import type { Connection, Credentials } from '../../api/connection.js';
import { catalogEntry, DEFAULT_DATABASE, DEFAULT_REGION } from '../../containers/catalog.js';
import { DEFAULT_SCHEMES, type ServiceSpec } from '../api/schemas.js';

/** Where a service's generated password lives: one per service, kept across attempts. */
export const generatedPasswordFile = (stateDir: string, service: string) => join(stateDir, 'services', service, 'credentials', 'password');

/** The credentials the service runs with and clients use: the spec's, plus what the catalog needs and the spec left out. */
export function serviceCredentials(spec: ServiceSpec, service: string, stateDir: string): Credentials | undefined {
  const vars = spec.endpoint || spec.command ? undefined : catalogEntry(spec.type)?.credentialEnv;
  const c: Credentials = { ...spec.credentials };
  if (vars?.user && c.user === undefined) c.user = vars.user.default;
  if (vars?.password && c.password === undefined) c.password = { file: generatedPasswordFile(stateDir, service) };
  return Object.keys(c).length > 0 ? c : undefined;
}

/** Writes the generated password once (owner-only, in an owner-only folder); later attempts reuse it. */
export function ensureGeneratedPassword(file: string): void {
  if (existsSync(file)) return;
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  writeFileAtomic.sync(file, `${randomBytes(18).toString('base64url')}\n`, { mode: 0o600 });
}

export function serviceConnection(spec: ServiceSpec, service: string, stateDir: string, at: { host: string; port: number }): Connection {
  const credentials = serviceCredentials(spec, service, stateDir);
  return {
    scheme: spec.endpoint?.scheme ?? DEFAULT_SCHEMES[spec.type],
    host: at.host,
    port: at.port,
    ...(spec.type === 'postgresql' ? { database: spec.database ?? DEFAULT_DATABASE } : {}),
    ...(spec.type === 's3' || spec.type === 'minio' ? { region: spec.region ?? DEFAULT_REGION } : {}),
    ...(credentials ? { credentials } : {}),
  };
}
