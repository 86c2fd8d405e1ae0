// aifbctl against a controller whose API is reachable from other hosts: it
// finds the token in the state folder by itself, takes --token-file or
// AIFB_TOKEN_FILE otherwise, and says which to use when it has none.
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { aifbctl, startController, stopProcess, until, workspace, type ControllerProcess } from './harness.js';

let controller: ControllerProcess | undefined;
afterEach(async () => {
  if (controller) await stopProcess(controller.child);
  controller = undefined;
});

const SERVICE = `apiVersion: aifb.io/v1alpha1
kind: Service
metadata:
  name: web
spec:
  type: http
  endpoint: { host: 127.0.0.1, port: 1 }
  readiness: { type: none }
`;

describe('aifbctl and a protected status API', () => {
  it('reads with the token from the state folder or --token-file, and says what to do without one', async () => {
    const ws = workspace();
    writeFileSync(join(ws.resources, 'web.yaml'), SERVICE);
    controller = await startController(ws, ['--host', '0.0.0.0']);
    expect(controller.logs()).toMatch(/Protected the status API/);
    const url = controller.url;

    const own = await until('the service listed', async () => {
      const r = await aifbctl(ws, ['get', 'services']);
      return r.code === 0 && /web\s+http\s+Ready/.test(r.stdout) ? r : undefined;
    }, 30_000);
    expect(own.stderr).toBe('');

    // Another folder (another user's view): no state folder to read the token from.
    const elsewhere = { ...ws, state: mkdtempSync(join(tmpdir(), 'aifb-other-state-')) };
    const without = await aifbctl(elsewhere, ['--server', url, 'get', 'services']);
    expect(without.code).toBe(1);
    expect(without.stderr).toMatch(/wants a bearer token \(HTTP 401\); aifbctl found no token .*Pass --token-file FILE .* or set AIFB_TOKEN_FILE/);

    const copy = join(mkdtempSync(join(tmpdir(), 'aifb-tok-')), 'token');
    copyFileSync(join(ws.state, 'api-token'), copy);
    const withFlag = await aifbctl(elsewhere, ['--server', url, '--token-file', copy, 'get', 'services']);
    expect(withFlag.code, withFlag.stderr).toBe(0);
    expect(withFlag.stdout).toMatch(/web\s+http\s+Ready/);
    const withEnv = await aifbctl(elsewhere, ['--server', url, 'get', 'services', 'web', '-o', 'json'], { AIFB_TOKEN_FILE: copy });
    expect(withEnv.code, withEnv.stderr).toBe(0);

    writeFileSync(copy, 'a-token-that-is-long-enough-but-wrong\n');
    const wrong = await aifbctl(elsewhere, ['--server', url, '--token-file', copy, 'get', 'services']);
    expect(wrong.stderr).toMatch(/aifbctl sent the token in .*token, and it is not the controller's/);
    expect(controller.logs()).not.toContain(await import('node:fs').then((fs) => fs.readFileSync(join(ws.state, 'api-token'), 'utf8').trim()));
  }, 60_000);
});
