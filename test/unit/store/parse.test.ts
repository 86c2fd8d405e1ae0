import { execFileSync } from 'node:child_process';
import { symlinkSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { markDuplicates, parseResourceText, scanFolder, specHashOf } from '../../../controller/store/parse.js';
import { benchmark, service, tempDir, TRICKY } from './fixtures.js';

describe('parseResourceText', () => {
  it('reads every document, skips comment-only ones but keeps indexes stable', () => {
    const docs = parseResourceText(TRICKY, 'r/a.yaml');
    expect(docs.map((d) => [d.index, d.key, d.validation.ok])).toEqual([
      [0, 'Benchmark/fs-load', true],
      [2, 'Service/nfs', true],
    ]);
    expect(docs[0].file).toBe('r/a.yaml');
    expect(docs[0].yamlErrors).toEqual([]);
    expect(docs[0].specHash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('separates status from the raw document and leaves it out of validation and the hash', () => {
    const withStatus = `${benchmark('x')}status:\n  phase: Running\n  bogus: 1\n`;
    const [a] = parseResourceText(withStatus, 'f.yaml');
    const [b] = parseResourceText(benchmark('x'), 'f.yaml');
    expect(a.status).toEqual({ phase: 'Running', bogus: 1 });
    expect(a.raw).not.toHaveProperty('status');
    expect(a.validation.ok).toBe(true);
    expect(b.status).toBeUndefined();
    expect(a.specHash).toBe(b.specHash);
  });

  it('hashes what the spec means, not how it is written; labels count, the name does not', () => {
    const block = parseResourceText(benchmark('x'), 'f.yaml')[0].specHash;
    const flow = parseResourceText(
      'apiVersion: aifb.io/v1alpha1\nkind: Benchmark\nmetadata: {name: y}\nspec: {load: {duration: 10s, workers: 2}, workload: {type: file-storage}, serviceRef: nfs}\n',
      'f.yaml',
    )[0].specHash;
    expect(flow).toBe(block);
    expect(parseResourceText(benchmark('x').replace('workers: 2', 'workers: 3'), 'f.yaml')[0].specHash).not.toBe(block);
    const labelled = benchmark('x').replace('  name: x\n', '  name: x\n  labels: {team: a}\n');
    expect(parseResourceText(labelled, 'f.yaml')[0].specHash).not.toBe(block);
    expect(specHashOf('not a mapping')).toBeUndefined();
  });

  it('reports unknown fields and bad values with their paths', () => {
    const text = benchmark('x').replace('    workers: 2\n', '    workers: 2\n    wrokers: 3\n').replace('name: x', 'name: Bad_Name');
    const [doc] = parseResourceText(text, 'f.yaml');
    expect(doc.validation.ok).toBe(false);
    if (doc.validation.ok) return;
    const paths = doc.validation.problems.map((p) => p.path);
    expect(paths).toContain('metadata.name');
    expect(paths).toContain('spec.load');
    expect(doc.validation.problems.find((p) => p.path === 'spec.load')?.message).toContain('"wrokers"');
    expect(doc.key).toBe('Benchmark/Bad_Name');
  });

  it('turns a syntax error anywhere into invalid documents that name the line and column', () => {
    const text = `${benchmark('ok')}---\nkind: Service\nmetadata: {name: s}\nspec: [1, 2\nnext: 1\n`;
    const docs = parseResourceText(text, 'f.yaml');
    expect(docs.length).toBeGreaterThanOrEqual(1);
    for (const d of docs) {
      expect(d.validation.ok).toBe(false);
      expect(d.yamlErrors[0].path).toBe('');
      expect(d.yamlErrors[0].message).toMatch(/^line 16, column \d+: /);
      if (!d.validation.ok) {
        expect(d.validation.problems[0].message).toMatch(/^invalid YAML: line 16, column \d+: .*; fix the syntax, the file is ignored until then$/);
      }
    }
    // The healthy first document is still recognisable, so the user sees which resource is affected.
    expect(docs[0].key).toBe('Benchmark/ok');
  });

  it('treats duplicate keys in a mapping as a syntax error with a line', () => {
    const docs = parseResourceText('kind: Service\nkind: Benchmark\n', 'f.yaml');
    expect(docs[0].yamlErrors[0].message).toMatch(/^line 2, column 1: Map keys must be unique/);
  });

  it('returns nothing for an empty or comment-only file', () => {
    expect(parseResourceText('', 'f.yaml')).toEqual([]);
    expect(parseResourceText('# nothing yet\n', 'f.yaml')).toEqual([]);
  });

  it('rejects a document that is not a mapping', () => {
    const [doc] = parseResourceText('- a\n- b\n', 'f.yaml');
    expect(doc.validation.ok).toBe(false);
    expect(doc.key).toBeUndefined();
  });
});

describe('markDuplicates', () => {
  it('keeps the first valid definition in (file, index) order and flags later ones on metadata.name', () => {
    const a = parseResourceText(`${benchmark('dup')}---\n${benchmark('dup')}`, '/r/b.yaml');
    const z = parseResourceText(benchmark('dup'), '/r/a.yaml');
    const out = markDuplicates([...a, ...z]);
    expect(out[2].validation.ok).toBe(true); // a.yaml sorts first
    for (const loser of [out[0], out[1]]) {
      expect(loser.validation.ok).toBe(false);
      if (!loser.validation.ok) {
        expect(loser.validation.problems).toEqual([
          { path: 'metadata.name', message: 'Benchmark "dup" is already defined in a.yaml (document 1); rename one of them' },
        ]);
      }
    }
  });

  it('does not let an invalid document win, and different kinds may share a name', () => {
    const invalid = parseResourceText(benchmark('x').replace('workers: 2', 'workers: -1'), '/r/a.yaml');
    const valid = parseResourceText(`${benchmark('x')}---\n${service('x')}`, '/r/b.yaml');
    const out = markDuplicates([...invalid, ...valid]);
    expect(out.map((d) => d.validation.ok)).toEqual([false, true, true]);
  });
});

describe('scanFolder', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => ({ dir, cleanup } = await tempDir()));
  afterEach(() => cleanup());

  it('reads *.yaml and *.yml in name order, and nothing hidden, temporary, backed up or nested', async () => {
    await writeFile(join(dir, 'b.yml'), benchmark('b'));
    await writeFile(join(dir, 'a.yaml'), benchmark('a'));
    await writeFile(join(dir, '.hidden.yaml'), benchmark('hidden'));
    await writeFile(join(dir, '.a.yaml.123.abcd.tmp'), benchmark('temp'));
    await writeFile(join(dir, 'c.yaml~'), benchmark('backup'));
    await writeFile(join(dir, 'notes.txt'), benchmark('txt'));
    await mkdir(join(dir, 'sub'));
    await writeFile(join(dir, 'sub', 'd.yaml'), benchmark('nested'));
    const { docs, fileErrors } = await scanFolder(dir);
    expect(docs.map((d) => [d.file, d.name])).toEqual([
      [join(dir, 'a.yaml'), 'a'],
      [join(dir, 'b.yml'), 'b'],
    ]);
    expect(fileErrors).toEqual([]);
  });

  it('reports an unreadable entry as a file error and still reads the rest', async () => {
    await mkdir(join(dir, 'bad.yaml'));
    await writeFile(join(dir, 'good.yaml'), benchmark('good'));
    const { docs, fileErrors } = await scanFolder(dir);
    expect(docs.map((d) => d.key)).toEqual(['Benchmark/good']);
    expect(fileErrors).toHaveLength(1);
    expect(fileErrors[0].file).toBe(join(dir, 'bad.yaml'));
    expect(fileErrors[0].message).toMatch(/^cannot read bad\.yaml: it is a directory; rename it/);
  });

  it('reports a named pipe as a file error rather than waiting on it, and still reads the rest', async () => {
    execFileSync('mkfifo', [join(dir, 'pipe.yaml')]);
    symlinkSync(join(dir, 'pipe.yaml'), join(dir, 'link.yaml'));
    await writeFile(join(dir, 'good.yaml'), benchmark('good'));
    const { docs, fileErrors } = await scanFolder(dir);
    expect(docs.map((d) => d.key)).toEqual(['Benchmark/good']);
    expect(fileErrors).toEqual([
      { file: join(dir, 'link.yaml'), message: 'cannot read link.yaml: it is a named pipe, not a file; rename it so its name does not end in .yaml or .yml' },
      { file: join(dir, 'pipe.yaml'), message: 'cannot read pipe.yaml: it is a named pipe, not a file; rename it so its name does not end in .yaml or .yml' },
    ]);
  });

  it('marks duplicates across files', async () => {
    await writeFile(join(dir, 'one.yaml'), benchmark('same'));
    await writeFile(join(dir, 'two.yaml'), `${service('svc')}---\n${benchmark('same')}`);
    const { docs } = await scanFolder(dir);
    const loser = docs.find((d) => d.file.endsWith('two.yaml') && d.kind === 'Benchmark');
    expect(loser?.validation.ok).toBe(false);
    expect(docs.filter((d) => d.validation.ok).map((d) => d.key)).toEqual(['Benchmark/same', 'Service/svc']);
  });
});
