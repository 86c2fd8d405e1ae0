import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runDelete } from '../../../controller/cli/delete.js';
import { benchmarkYaml, serviceYaml, tempDirs, type TempDirs } from './files.fixture.js';
import { capture } from './fixtures.js';

let t: TempDirs;
beforeEach(async () => {
  t = await tempDirs();
  await mkdir(t.resources);
  await writeFile(path.join(t.resources, 'single.yaml'), benchmarkYaml('alone'));
  await writeFile(path.join(t.resources, 'multi.yaml'), `${benchmarkYaml('shared')}---\n${serviceYaml('svc')}`);
});
afterEach(async () => {
  await t.cleanup();
});

const files = async () => (await readdir(t.resources)).sort();

describe('aifbctl delete', () => {
  it('removes the file of a resource that is alone in its file', async () => {
    const io = capture();
    expect(await runDelete({ resourcesDir: t.resources, kind: 'benchmark', names: ['alone'] }, io)).toBe(0);
    expect(io.out).toBe('benchmark "alone" deleted\n');
    expect(await files()).toEqual(['multi.yaml']);
  });

  it('refuses to rewrite a multi-document file and leaves it untouched', async () => {
    const before = await readFile(path.join(t.resources, 'multi.yaml'), 'utf8');
    const io = capture();
    expect(await runDelete({ resourcesDir: t.resources, kind: 'bench', names: ['shared'] }, io)).toBe(1);
    expect(io.out).toBe('');
    expect(io.err).toContain('benchmark "shared" is document 1 of');
    expect(io.err).toContain('remove that document from multi.yaml by hand');
    expect(await readFile(path.join(t.resources, 'multi.yaml'), 'utf8')).toBe(before);
  });

  it('exits 1 when the resource does not exist', async () => {
    const io = capture();
    expect(await runDelete({ resourcesDir: t.resources, kind: 'service', names: ['ghost'] }, io)).toBe(1);
    expect(io.err).toBe(`Error: service "ghost" not found in ${t.resources}\n`);
    expect(await files()).toEqual(['multi.yaml', 'single.yaml']);
  });

  it('with -f deletes what the file defines, even a whole multi-document file', async () => {
    const file = await t.write('local.yaml', `${serviceYaml('svc')}---\n${benchmarkYaml('shared')}`);
    const io = capture();
    expect(await runDelete({ resourcesDir: t.resources, files: [file] }, io)).toBe(0);
    expect(io.out).toBe('benchmark "shared" deleted\nservice "svc" deleted\n');
    expect(await files()).toEqual(['single.yaml']);
  });

  it('rejects an unknown type', async () => {
    const io = capture();
    expect(await runDelete({ resourcesDir: t.resources, kind: 'pod', names: ['x'] }, io)).toBe(1);
    expect(io.err).toContain('unknown resource type "pod"');
  });
});
