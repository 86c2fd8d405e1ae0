import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runApply } from '../../../controller/cli/apply.js';
import { benchmarkYaml, serviceYaml, tempDirs, type TempDirs } from './files.fixture.js';
import { capture } from './fixtures.js';

let t: TempDirs;
beforeEach(async () => {
  t = await tempDirs();
});
afterEach(async () => {
  await t.cleanup();
});

const listResources = async () => (await readdir(t.resources).catch(() => [] as string[])).sort();

describe('aifbctl apply', () => {
  it('copies a valid file into the resources folder under its own name and says created', async () => {
    const text = `${benchmarkYaml('one')}---\n${serviceYaml('svc-one')}`;
    const file = await t.write('bench.yaml', text);
    const io = capture();
    expect(await runApply({ resourcesDir: t.resources, file }, io)).toBe(0);
    expect(io.out).toBe('benchmark/one created\nservice/svc-one created\n');
    expect(io.err).toBe('');
    expect(await listResources()).toEqual(['bench.yaml']);
    expect(await readFile(path.join(t.resources, 'bench.yaml'), 'utf8')).toBe(text);
  });

  it('says configured when the same file name held the resource before, and leaves no temp file', async () => {
    const file = await t.write('bench.yaml', benchmarkYaml('one'));
    await runApply({ resourcesDir: t.resources, file }, capture());
    await writeFile(file, benchmarkYaml('one', '10s'));
    const io = capture();
    expect(await runApply({ resourcesDir: t.resources, file }, io)).toBe(0);
    expect(io.out).toBe('benchmark/one configured\n');
    expect(await listResources()).toEqual(['bench.yaml']);
    expect(await readFile(path.join(t.resources, 'bench.yaml'), 'utf8')).toContain('duration: 10s');
  });

  it('refuses an invalid file, prints every problem with its field path, and copies nothing', async () => {
    const bad = benchmarkYaml('Bad_Name', '5 parsecs');
    const file = await t.write('bad.yaml', `${bad}---\n${serviceYaml('fine')}`);
    const io = capture();
    expect(await runApply({ resourcesDir: t.resources, file }, io)).toBe(1);
    expect(io.out).toBe('');
    expect(io.err).toContain(`${file}: Benchmark/Bad_Name: metadata.name: must be a DNS label`);
    expect(io.err).toContain(`${file}: Benchmark/Bad_Name: spec.load.duration: "5 parsecs" is not a duration`);
    expect(io.err).toContain('was not applied');
    expect(await listResources()).toEqual([]);
  });

  it('refuses a YAML syntax error', async () => {
    const file = await t.write('broken.yaml', 'kind: Benchmark\nmetadata: {name: x\n');
    const io = capture();
    expect(await runApply({ resourcesDir: t.resources, file }, io)).toBe(1);
    expect(io.err).toMatch(/invalid YAML/);
    expect(await listResources()).toEqual([]);
  });

  it('refuses when a different file in the folder already defines the same resource', async () => {
    await mkdir(t.resources, { recursive: true });
    await writeFile(path.join(t.resources, 'other.yaml'), benchmarkYaml('one'));
    const file = await t.write('mine.yaml', benchmarkYaml('one', '9s'));
    const io = capture();
    expect(await runApply({ resourcesDir: t.resources, file }, io)).toBe(1);
    expect(io.err).toContain(`benchmark/one is already defined in ${path.join(t.resources, 'other.yaml')}`);
    expect(await listResources()).toEqual(['other.yaml']);
  });

  it('refuses a file the controller would not read', async () => {
    const file = await t.write('bench.txt', benchmarkYaml('one'));
    const io = capture();
    expect(await runApply({ resourcesDir: t.resources, file }, io)).toBe(1);
    expect(io.err).toContain('*.yaml or *.yml');
    expect(await listResources()).toEqual([]);
  });
});
