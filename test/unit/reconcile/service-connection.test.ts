import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ServiceSpec } from '../../../api/schemas.js';
import { ensureGeneratedPassword, generatedPasswordFile, serviceConnection, serviceCredentials } from '../../../controller/reconcile/service-connection.js';

const spec = (s: Record<string, unknown>) => ServiceSpec.parse(s);
const at = { host: 'node7', port: 5432 };

describe('serviceConnection', () => {
  it('publishes scheme and per-type fields, with a generated password by reference for a PostgreSQL it starts', () => {
    const c = serviceConnection(spec({ type: 'postgresql' }), 'db', '/state', at);
    expect(c).toEqual({
      scheme: 'postgresql',
      host: 'node7',
      port: 5432,
      database: 'aifb',
      credentials: { user: 'aifb', password: { file: '/state/services/db/credentials/password' } },
    });
  });

  it("keeps the user's credentials and fields as given", () => {
    const c = serviceConnection(spec({ type: 'postgresql', database: 'tpcb', credentials: { user: 'me', password: { env: 'PGPASS' } } }), 'db', '/state', at);
    expect(c).toMatchObject({ database: 'tpcb', credentials: { user: 'me', password: { env: 'PGPASS' } } });
    expect(serviceConnection(spec({ type: 'minio' }), 's3', '/state', at)).toMatchObject({ scheme: 'http', region: 'us-east-1', credentials: { user: 'aifb' } });
  });

  it('generates nothing for a service that runs elsewhere or from its own command', () => {
    expect(serviceConnection(spec({ type: 'postgresql', endpoint: { host: 'db.example', port: 5432 } }), 'db', '/state', at).credentials).toBeUndefined();
    expect(serviceCredentials(spec({ type: 'postgresql', command: ['postgres'], port: 5432 }), 'db', '/state')).toBeUndefined();
    expect(serviceConnection(spec({ type: 'http', endpoint: { host: 'h', port: 443, scheme: 'https' } }), 'web', '/state', at).scheme).toBe('https');
    expect(serviceConnection(spec({ type: 'vllm', credentials: { token: { file: '/keys/vllm' } } }), 'v', '/state', at).credentials).toEqual({ token: { file: '/keys/vllm' } });
  });
});

describe('ensureGeneratedPassword', () => {
  it('writes a random password once, readable by its owner only, and keeps it across attempts', () => {
    const state = mkdtempSync(join(tmpdir(), 'aifb-pw-'));
    const file = generatedPasswordFile(state, 'db');
    ensureGeneratedPassword(file);
    const first = readFileSync(file, 'utf8');
    expect(first).toMatch(/^[A-Za-z0-9_-]{24}\n$/);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(state, 'services', 'db', 'credentials')).mode & 0o777).toBe(0o700);
    ensureGeneratedPassword(file);
    expect(readFileSync(file, 'utf8')).toBe(first);
  });
});
