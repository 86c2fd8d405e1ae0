// The status API's access rules: open on loopback, a bearer token for every
// route but /healthz anywhere else, and for anything but a read always.
import { chmodSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { startController, type RunningController } from '../../../controller/cli/controller-run.js';
import type { Logger } from '../../../controller/runtime/logger.js';
import { buildApp } from '../../../controller/server/app.js';
import { isLoopback, loadApiToken, tokenMatches } from '../../../controller/server/auth.js';
import { FakeSource, views } from '../cli/fixtures.js';

const TOKEN = 'k'.repeat(43);
const app = (reads: boolean) => buildApp({ source: new FakeSource(views()), auth: { token: TOKEN, reads, hint: 'aifbctl reads <state>/api-token' } });

describe('the status API behind a token', () => {
  it('refuses every route but /healthz without the token, and serves them with it', async () => {
    const a = app(true);
    expect((await a.inject({ url: '/healthz' })).statusCode).toBe(200);
    for (const url of ['/api/v1/benchmarks', '/api/v1/benchmarks/fs', '/api/v1/problems', '/nothing-here']) {
      const res = await a.inject({ url });
      expect(res.statusCode, url).toBe(401);
      // Nothing but the refusal: no resource, no route list.
      expect(res.json()).toEqual({ error: 'Unauthorized', message: 'aifbctl reads <state>/api-token' });
      expect(res.headers['www-authenticate']).toBe('Bearer');
    }
    const ok = await a.inject({ url: '/api/v1/benchmarks/fs', headers: { authorization: `Bearer ${TOKEN}` } });
    expect(ok.statusCode).toBe(200);
    expect(ok.body).not.toContain(TOKEN);
  });

  it('refuses a wrong token of the same length, another scheme, and a token in the URL', async () => {
    const a = app(true);
    for (const authorization of [`Bearer ${'x'.repeat(TOKEN.length)}`, `Basic ${TOKEN}`, `Bearer ${TOKEN} extra`, TOKEN]) {
      expect((await a.inject({ url: '/api/v1/benchmarks', headers: { authorization } })).statusCode, authorization).toBe(401);
    }
    expect((await a.inject({ url: `/api/v1/benchmarks?token=${TOKEN}` })).statusCode).toBe(401);
    expect(tokenMatches(`bearer ${TOKEN}`, TOKEN)).toBe(true);
  });

  it('on loopback serves reads without a token, but never anything else', async () => {
    const a = app(false);
    expect((await a.inject({ url: '/api/v1/benchmarks' })).statusCode).toBe(200);
    expect((await a.inject({ method: 'POST', url: '/api/v1/benchmarks', payload: {} })).statusCode).toBe(401);
    expect((await a.inject({ method: 'DELETE', url: '/api/v1/benchmarks/fs', headers: { authorization: `Bearer ${TOKEN}` } })).statusCode).toBe(404);
  });

  it('knows loopback addresses', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost']) expect(isLoopback(h), h).toBe(true);
    for (const h of ['0.0.0.0', '::', '10.0.0.5', 'mel2345']) expect(isLoopback(h), h).toBe(false);
  });
});

describe('loadApiToken', () => {
  it('generates a random token once into an owner-only file, and reads it back', () => {
    const state = mkdtempSync(join(tmpdir(), 'aifb-token-'));
    const a = loadApiToken(state);
    expect(a).toMatchObject({ generated: true, file: join(state, 'api-token') });
    expect(a.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(statSync(a.file).mode & 0o777).toBe(0o600);
    expect(loadApiToken(state)).toEqual({ ...a, generated: false });
    expect(loadApiToken(mkdtempSync(join(tmpdir(), 'aifb-token-'))).token).not.toBe(a.token);
  });

  it('refuses a named file others can read, or one without a token, saying how to fix it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'aifb-token-'));
    const file = join(dir, 'tok');
    writeFileSync(file, `${TOKEN}\n`, { mode: 0o644 });
    chmodSync(file, 0o644);
    expect(() => loadApiToken(dir, file)).toThrow(`${file} can be read by others (mode 644); make it owner-only: chmod 600 ${file}`);
    chmodSync(file, 0o600);
    expect(loadApiToken(dir, file).token).toBe(TOKEN);
    writeFileSync(file, 'short\n');
    expect(() => loadApiToken(dir, file)).toThrow(/holds no usable token/);
    expect(() => loadApiToken(dir, join(dir, 'missing'))).toThrow(/--token-file .*missing does not exist/);
  });
});

describe('a controller bound to 0.0.0.0', () => {
  let running: RunningController | undefined;
  afterEach(async () => {
    await running?.stop();
    running = undefined;
  });

  it('protects its API when called on 127.0.0.1, says so once, and never logs the token', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aifb-bound-'));
    const lines: string[] = [];
    const log: Logger = { info: (m, f) => lines.push(`${m} ${JSON.stringify(f)}`), warn: (m, f) => lines.push(`${m} ${JSON.stringify(f)}`), error: (m, f) => lines.push(`${m} ${JSON.stringify(f)}`) };
    running = await startController({ resources: join(dir, 'resources'), executor: 'local', host: '0.0.0.0', port: 0, resync: '30s', log });
    const token = readFileSync(join(dir, '.aifb', 'api-token'), 'utf8').trim();
    const base = running.url.replace('0.0.0.0', '127.0.0.1');
    expect((await request(`${base}/healthz`)).statusCode).toBe(200);
    const refused = await request(`${base}/api/v1/services`);
    expect(refused.statusCode).toBe(401);
    expect(await refused.body.text()).not.toContain(token);
    expect((await request(`${base}/api/v1/services`, { headers: { authorization: `Bearer ${token}` } })).statusCode).toBe(200);
    expect(lines.filter((l) => l.startsWith('Protected the status API'))).toHaveLength(1);
    expect(lines.some((l) => l.includes('api-token'))).toBe(true);
    expect(lines.join('\n')).not.toContain(token);
    // Nothing the controller wrote holds the token but its own file.
    const holders = readdirSync(join(dir, '.aifb'), { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile() && e.name !== 'api-token')
      .filter((e) => readFileSync(join(e.parentPath, e.name)).includes(token));
    expect(holders).toEqual([]);
  });
});
