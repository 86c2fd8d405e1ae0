import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runValidate } from '../../../controller/cli/validate.js';
import { benchmarkYaml, serviceYaml, tempDirs, type TempDirs } from './files.fixture.js';
import { capture } from './fixtures.js';

let t: TempDirs;
beforeEach(async () => {
  t = await tempDirs();
});
afterEach(async () => {
  await t.cleanup();
});

describe('aifbctl validate', () => {
  it('prints one valid line per document and exits 0', async () => {
    const a = await t.write('a.yaml', `${benchmarkYaml('one')}---\n${serviceYaml('two')}`);
    const io = capture();
    expect(await runValidate({ files: [a] }, io)).toBe(0);
    expect(io.out).toBe(`${a}: Benchmark/one valid\n${a}: Service/two valid\n`);
    expect(io.err).toBe('');
  });

  it('names the field path of each problem and exits 1', async () => {
    const good = await t.write('good.yaml', benchmarkYaml('good'));
    const bad = await t.write(
      'bad.yaml',
      'apiVersion: aifb.io/v1alpha1\nkind: Benchmark\nmetadata:\n  name: bad\nspec:\n  workload:\n    type: file-storage\n  load:\n    workers: 0\n    duration: 5s\n  colour: red\n',
    );
    const io = capture();
    expect(await runValidate({ files: [good, bad] }, io)).toBe(1);
    expect(io.out).toBe(`${good}: Benchmark/good valid\n`);
    const lines = io.err.trimEnd().split('\n');
    expect(lines).toContain(`${bad}: Benchmark/bad: spec: unknown field "colour"; remove it or check the spelling`);
    expect(lines.some((l) => l.startsWith(`${bad}: Benchmark/bad: spec.load.workers: `))).toBe(true);
  });

  it('reports a wrong kind and a missing file', async () => {
    const odd = await t.write('odd.yaml', 'apiVersion: aifb.io/v1alpha1\nkind: Pod\nmetadata: {name: p}\nspec: {}\n');
    const io = capture();
    expect(await runValidate({ files: [odd, `${t.root}/missing.yaml`] }, io)).toBe(1);
    expect(io.err).toContain(`${odd}: Pod/p: kind: must be one of Service, Benchmark, MonitoringStack, got "Pod"`);
    expect(io.err).toContain(`${t.root}/missing.yaml: cannot read:`);
  });

  it('flags a name used twice in one file', async () => {
    const dup = await t.write('dup.yaml', `${benchmarkYaml('same')}---\n${benchmarkYaml('same')}`);
    const io = capture();
    expect(await runValidate({ files: [dup] }, io)).toBe(1);
    expect(io.err).toContain(`${dup}: Benchmark/same: metadata.name: already defined by document 1 of this file`);
  });

  it('reads stdin for -', async () => {
    const io = capture();
    expect(await runValidate({ files: ['-'], readStdin: async () => serviceYaml('piped') }, io)).toBe(0);
    expect(io.out).toBe('-: Service/piped valid\n');
  });
});
