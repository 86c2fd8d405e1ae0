// After `npm run quickstart`, `aifbctl` answers by name: a symlink in
// ~/.local/bin (no root, no npm global prefix) to this checkout's bin/aifbctl.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './harness.js';

const INSTALL = join(ROOT, 'dist/controller/cli/install-cli.js');
const install = (env: NodeJS.ProcessEnv) => execFileSync(process.execPath, [INSTALL], { env, encoding: 'utf8' });
const basePath = `${dirname(process.execPath)}:/usr/bin:/bin`;

describe('aifbctl on PATH', () => {
  it('links ~/.local/bin/aifbctl, which then runs by name from any folder; again is a no-op', () => {
    const home = mkdtempSync(join(tmpdir(), 'aifb-home-'));
    const bin = join(home, '.local', 'bin');
    const env = { HOME: home, PATH: `${bin}:${basePath}` };
    expect(install(env)).toBe(`aifbctl: ${join(bin, 'aifbctl')} -> ${join(ROOT, 'bin/aifbctl')}\n`);
    expect(install(env)).toBe(`aifbctl: ${join(bin, 'aifbctl')} -> ${join(ROOT, 'bin/aifbctl')}\n`);
    const help = execFileSync('sh', ['-c', 'cd / && aifbctl --help'], { env, encoding: 'utf8' });
    expect(help).toMatch(/^Usage: aifbctl/m);
    expect(help).toMatch(/^\s+run \[options\]/m);
  });

  it('says how to put the folder on PATH when the shell does not have it yet', () => {
    const home = mkdtempSync(join(tmpdir(), 'aifb-home-'));
    const out = install({ HOME: home, PATH: basePath });
    expect(out).toContain(`${join(home, '.local', 'bin')} is not on PATH in this shell: log in again`);
  });

  it('never replaces a file that is not aifb’s', () => {
    const home = mkdtempSync(join(tmpdir(), 'aifb-home-'));
    const bin = join(home, '.local', 'bin');
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(bin, 'aifbctl'), '#!/bin/sh\necho mine\n');
    expect(install({ HOME: home, PATH: basePath })).toContain(`not linked: ${join(bin, 'aifbctl')} exists and is not aifb's`);
    expect(readFileSync(join(bin, 'aifbctl'), 'utf8')).toContain('echo mine');
  });
});
