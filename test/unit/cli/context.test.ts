import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveGlobals } from '../../../controller/cli/context.js';
import { tempDirs, type TempDirs } from './files.fixture.js';

let t: TempDirs;
beforeEach(async () => {
  t = await tempDirs();
});
afterEach(async () => {
  await t.cleanup();
});

describe('global options', () => {
  it('defaults to ./resources, ../.aifb beside it, and the default port', async () => {
    const g = await resolveGlobals({}, {}, t.root);
    expect(g).toEqual({
      resourcesDir: path.join(t.root, 'resources'),
      stateDir: path.join(t.root, '.aifb'),
      serverUrl: 'http://127.0.0.1:8484',
      tokenSource: `no token (${path.join(t.root, '.aifb', 'api-token')} does not exist here)`,
    });
  });

  it('finds the token: --token-file, then AIFB_TOKEN_FILE, then AIFB_TOKEN, then the state folder', async () => {
    await mkdir(path.join(t.root, '.aifb'));
    await writeFile(path.join(t.root, '.aifb', 'api-token'), 'from-state\n');
    await writeFile(path.join(t.root, 'flag-token'), 'from-flag\n');
    await writeFile(path.join(t.root, 'env-token'), 'from-env-file\n');
    expect((await resolveGlobals({}, {}, t.root)).token).toBe('from-state');
    expect((await resolveGlobals({}, { AIFB_TOKEN: 'from-env' }, t.root)).token).toBe('from-env');
    expect((await resolveGlobals({}, { AIFB_TOKEN: 'x', AIFB_TOKEN_FILE: path.join(t.root, 'env-token') }, t.root)).token).toBe('from-env-file');
    expect((await resolveGlobals({ tokenFile: path.join(t.root, 'flag-token') }, { AIFB_TOKEN_FILE: path.join(t.root, 'env-token') }, t.root)).token).toBe('from-flag');
    await expect(resolveGlobals({ tokenFile: path.join(t.root, 'nope') }, {}, t.root)).rejects.toThrow(/cannot read the token file .*nope \(ENOENT\); check --token-file or AIFB_TOKEN_FILE/);
  });

  it('takes the URL a running controller wrote into the state folder', async () => {
    await mkdir(path.join(t.root, '.aifb'));
    await writeFile(path.join(t.root, '.aifb', 'controller.json'), JSON.stringify({ url: 'http://127.0.0.1:9999', pid: 1 }));
    expect((await resolveGlobals({}, {}, t.root)).serverUrl).toBe('http://127.0.0.1:9999');
    // The environment beats the file, and the flag beats both.
    expect((await resolveGlobals({}, { AIFB_SERVER: 'http://env:1' }, t.root)).serverUrl).toBe('http://env:1');
    expect((await resolveGlobals({ server: 'http://flag:2/' }, { AIFB_SERVER: 'http://env:1' }, t.root)).serverUrl).toBe('http://flag:2');
  });

  it('reads folders from the environment, flags first', async () => {
    const g = await resolveGlobals({ state: 'st' }, { AIFB_RESOURCES: '/data/res', AIFB_STATE: '/data/state' }, t.root);
    expect(g.resourcesDir).toBe('/data/res');
    expect(g.stateDir).toBe(path.join(t.root, 'st'));
  });

  it('ignores a half-written controller.json', async () => {
    await mkdir(path.join(t.root, '.aifb'));
    await writeFile(path.join(t.root, '.aifb', 'controller.json'), '{"url": "http://12');
    expect((await resolveGlobals({}, {}, t.root)).serverUrl).toBe('http://127.0.0.1:8484');
  });
});
