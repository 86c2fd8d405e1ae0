// Which Service specs the local executor runs natively, the command each gets,
// and what a host without the server's program is told to install.
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ServiceSpec } from '../../../api/schemas.js';
import { freeLocalPort, nativeLaunch, nativeTypeOf, NativeServiceUnavailable, POSTGRES_MAIN, postgresBinDir, S3_MAIN } from '../../../containers/native/native-services.js';

const spec = (s: Record<string, unknown>) => ServiceSpec.parse(s);
const base = { port: 41000, dataDir: '/state/services/db/g1-a1/data', stateDir: '/state', args: [] as string[] };
const password = { file: '/state/services/db/credentials/password' };

/** A folder of executable stand-ins named like PostgreSQL's programs. */
function binDir(dir: string, names = ['postgres', 'initdb']): string {
  mkdirSync(dir, { recursive: true });
  for (const n of names) {
    writeFileSync(join(dir, n), '#!/bin/sh\n');
    chmodSync(join(dir, n), 0o755);
  }
  return dir;
}

afterEach(() => vi.unstubAllEnvs());

describe('nativeTypeOf', () => {
  it('runs postgresql, s3, minio and chromadb natively when the spec asks for nothing else', () => {
    for (const type of ['postgresql', 's3', 'minio', 'chromadb']) expect(nativeTypeOf(spec({ type }))).toBe(type);
    for (const type of ['vllm', 'ollama', 'triton', 'weaviate', 'http']) expect(nativeTypeOf(spec({ type }))).toBeUndefined();
  });

  it("keeps the user's command, endpoint, image or binds: those ask for something else than the native server", () => {
    expect(nativeTypeOf(spec({ type: 'postgresql', command: ['postgres'], port: 5432 }))).toBeUndefined();
    expect(nativeTypeOf(spec({ type: 'postgresql', endpoint: { port: 5432 } }))).toBeUndefined();
    expect(nativeTypeOf(spec({ type: 'postgresql', image: 'docker://postgres:17' }))).toBeUndefined();
    expect(nativeTypeOf(spec({ type: 'minio', binds: ['/fast:/data'] }))).toBeUndefined();
  });
});

describe('nativeLaunch', () => {
  it('postgresql: the wrapper with the newest installed major, the user as a value and the password by reference only', () => {
    const root = mkdtempSync(join(tmpdir(), 'aifb-pgroot-'));
    binDir(join(root, '13', 'bin'));
    binDir(join(root, '16', 'bin'));
    binDir(join(root, '17', 'bin'), ['psql']); // a client-only install is no server
    const launch = nativeLaunch('postgresql', { ...base, postgresRoot: root, database: 'tpcb', credentials: { user: 'bench', password }, args: ['-c', 'max_connections=300'] });
    expect(launch.command).toEqual([
      process.execPath,
      POSTGRES_MAIN,
      '--bin', join(root, '16', 'bin'),
      '--data', base.dataDir,
      '--state', '/state',
      '--port', '41000',
      '--database', 'tpcb',
      '--',
      '-c', 'max_connections=300',
    ]);
    expect(launch.env).toEqual({ POSTGRES_USER: 'bench' });
    expect(launch.secretEnv).toEqual({ POSTGRES_PASSWORD: password });
    // The default database is the catalog's, as the container creates it.
    expect(nativeLaunch('postgresql', { ...base, postgresRoot: root, credentials: { user: 'aifb', password } }).command).toContain('aifb');
  });

  it('postgresql: without server binaries, says what to install and which fields run it another way', () => {
    vi.stubEnv('PATH', '/nonexistent');
    const run = () => nativeLaunch('postgresql', { ...base, postgresRoot: mkdtempSync(join(tmpdir(), 'aifb-nopg-')) });
    expect(run).toThrow(NativeServiceUnavailable);
    expect(run).toThrow(/apt-get install postgresql, or set spec\.endpoint .* or spec\.command/);
  });

  it('postgresql: finds a server on PATH when there is no Debian layout', () => {
    const dir = binDir(join(mkdtempSync(join(tmpdir(), 'aifb-pgpath-')), 'bin'));
    expect(postgresBinDir('/nonexistent', `/nowhere:${dir}`)).toBe(dir);
  });

  it('s3 and minio: s3rver with the access key as a value and the secret key by reference; no arguments', () => {
    for (const type of ['s3', 'minio'] as const) {
      const launch = nativeLaunch(type, { ...base, credentials: { user: 'aifb', password } });
      expect(launch.command).toEqual([process.execPath, S3_MAIN, '--data', base.dataDir, '--port', '41000', '--host', '127.0.0.1']);
      expect(launch.env).toEqual({ MINIO_ROOT_USER: 'aifb' });
      expect(launch.secretEnv).toEqual({ MINIO_ROOT_PASSWORD: password });
    }
    expect(() => nativeLaunch('s3', { ...base, args: ['--silent'] })).toThrow(/^spec\.args: .*s3rver, which takes no arguments; remove spec\.args/);
  });

  it('s3: names the package to install when s3rver (a development dependency) is missing', () => {
    const missing = () => {
      throw Object.assign(new Error("Cannot find module 's3rver'"), { code: 'MODULE_NOT_FOUND' });
    };
    const run = () => nativeLaunch('s3', { ...base, resolvePackage: missing });
    expect(run).toThrow(NativeServiceUnavailable);
    expect(run).toThrow(/s3rver, an npm development dependency .* run `npm install s3rver` \(or `npm ci` without --omit=dev\)/);
  });

  it("chromadb: the chromadb package's `chroma run` under this Node, data in the attempt folder, on 127.0.0.1", () => {
    const launch = nativeLaunch('chromadb', { ...base, args: [] });
    expect(launch.command[0]).toBe(process.execPath);
    expect(launch.command[1]).toMatch(/node_modules\/chromadb\/dist\/cli\.mjs$/);
    expect(launch.command.slice(2)).toEqual(['run', '--path', base.dataDir, '--host', '127.0.0.1', '--port', '41000']);
    expect(launch.env).toEqual({ ANONYMIZED_TELEMETRY: 'FALSE' });
    const missing = () => {
      throw new Error("Cannot find module 'chromadb'");
    };
    expect(() => nativeLaunch('chromadb', { ...base, resolvePackage: missing })).toThrow(/chroma run` from the chromadb npm package, which is not installed here: run `npm ci`/);
  });
});

describe('freeLocalPort', () => {
  it('gives a port nothing listens on, which a server can then take', async () => {
    const port = await freeLocalPort();
    const server = createServer();
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', resolve));
    server.close();
  });
});
