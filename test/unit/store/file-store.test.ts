import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileStore } from '../../../controller/store/file-store.js';
import { benchmark, service, tempDir, TRICKY } from './fixtures.js';

describe('FileStore', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => ({ dir, cleanup } = await tempDir()));
  afterEach(() => cleanup());

  it('scans the folder and writes status into the right document', async () => {
    await writeFile(join(dir, 'a.yaml'), TRICKY);
    const store = new FileStore({ resourcesDir: dir });
    const { docs } = await store.scan();
    const svc = docs.find((d) => d.key === 'Service/nfs')!;
    expect(await store.writeStatus({ file: svc.file, index: svc.index, kind: 'Service', name: 'nfs' }, { phase: 'Ready' })).toBe('written');
    expect(await store.writeStatus({ file: svc.file, index: svc.index, kind: 'Service', name: 'nfs' }, { phase: 'Ready' })).toBe('unchanged');
    const again = await store.scan();
    expect(again.docs.find((d) => d.key === 'Service/nfs')?.status).toEqual({ phase: 'Ready' });
    expect(again.docs.find((d) => d.key === 'Service/nfs')?.specHash).toBe(svc.specHash);
  });

  it('recognises its own write, and not a user edit made after it', async () => {
    const file = join(dir, 'a.yaml');
    await writeFile(file, service('nfs'));
    const store = new FileStore({ resourcesDir: dir });
    expect(await store.isOwnWrite(file)).toBe(false);
    await store.writeStatus({ file, index: 0, kind: 'Service', name: 'nfs' }, { phase: 'Ready' });
    expect(await store.isOwnWrite(file)).toBe(true);
    await writeFile(file, `${await readFile(file, 'utf8')}# user comment\n`);
    expect(await store.isOwnWrite(file)).toBe(false);
    expect(await store.isOwnWrite(join(dir, 'missing.yaml'))).toBe(false);
  });

  it('serialises concurrent writes to one file so both statuses land', async () => {
    const file = join(dir, 'a.yaml');
    await writeFile(file, `${benchmark('b1')}---\n${benchmark('b2')}`);
    const store = new FileStore({ resourcesDir: dir });
    const outcomes = await Promise.all([
      store.writeStatus({ file, index: 0, kind: 'Benchmark', name: 'b1' }, { phase: 'Running' }),
      store.writeStatus({ file, index: 1, kind: 'Benchmark', name: 'b2' }, { phase: 'Pending' }),
    ]);
    expect(outcomes).toEqual(['written', 'written']);
    const docs = parseAllDocuments(await readFile(file, 'utf8')).map((d) => (d.toJS() as { status: unknown }).status);
    expect(docs).toEqual([{ phase: 'Running' }, { phase: 'Pending' }]);
    expect(await store.isOwnWrite(file)).toBe(true);
    expect(await readdir(dir)).toEqual(['a.yaml']);
  });

  it('keeps a user edit that lands during a write, and does not claim the result as its own', async () => {
    const file = join(dir, 'a.yaml');
    await writeFile(file, service('nfs'));
    let edited = false;
    const store = new FileStore({
      resourcesDir: dir,
      beforeRename: async () => {
        if (edited) return;
        edited = true;
        await writeFile(file, service('nfs').replace('type: file-storage', 'type: file-storage   # edited'));
      },
    });
    expect(await store.writeStatus({ file, index: 0, kind: 'Service', name: 'nfs' }, { phase: 'Ready' })).toBe('written');
    const text = await readFile(file, 'utf8');
    expect(text).toContain('# edited');
    expect(text).toContain('status:\n  phase: Ready\n');
    expect(await store.isOwnWrite(file)).toBe(true);
  });
});
