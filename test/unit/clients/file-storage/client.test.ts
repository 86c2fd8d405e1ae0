import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileStorageWorkload } from '../../../../clients/file-storage/schema.js';
import { ConfigError } from '../../../../clients/client.js';
import { FileSet, FileStorageClient, validateFileStorage } from '../../../../clients/file-storage/client.js';

let base: string;
beforeEach(async () => {
  base = await mkdtemp(join(tmpdir(), 'aifb-fs-test-'));
});
afterEach(async () => {
  await rm(base, { recursive: true, force: true });
});

const workload = (over: Record<string, unknown> = {}) => FileStorageWorkload.parse({ type: 'file-storage', basePath: base, ...over });

describe('FileStorageClient', () => {
  it('prefills files of the largest size in its own folder and removes the folder in teardown', async () => {
    const c = new FileStorageClient(workload({ prefill: 5, fileSizes: { '1KB': 1, '8KB': 1 } }), { runId: 'r1', rank: 2 });
    await c.setup();
    expect(c.dir).toBe(join(base, 'r1-r2'));
    const names = await readdir(c.dir);
    expect(names).toHaveLength(5);
    expect((await stat(join(c.dir, names[0]))).size).toBe(8192);
    await c.teardown();
    await expect(stat(c.dir)).rejects.toThrow(/ENOENT/);
  });

  it('writes, reads, stats and deletes real files', async () => {
    const c = new FileStorageClient(workload({ prefill: 0, fsync: true, fileSizes: { '4KB': 1 } }), { runId: 'r', rank: 0 });
    await c.setup();
    expect(await c.execute({ name: 'write', size: 3000, seq: 0 })).toEqual({ metrics: { bytes: 3000 } });
    expect(await readdir(c.dir)).toHaveLength(1);
    expect(await c.execute({ name: 'read', size: 4096, seq: 1 })).toEqual({ metrics: { bytes: 3000 } });
    expect(await c.execute({ name: 'stat', seq: 2 })).toEqual({});
    expect(await c.execute({ name: 'delete', seq: 3 })).toEqual({});
    expect(await readdir(c.dir)).toHaveLength(0);
    expect(c.liveFiles).toBe(0);
    await c.teardown();
  });

  it('falls back to a write when there is no file to read, stat or delete', async () => {
    const c = new FileStorageClient(workload({ prefill: 0 }), { runId: 'r', rank: 0 });
    await c.setup();
    for (const name of ['read', 'stat', 'delete']) {
      expect(await c.execute({ name, size: 100, seq: 0 })).toEqual({ metrics: { bytes: 100 }, as: 'write' });
      await c.execute({ name: 'delete', seq: 0 });
    }
    await c.teardown();
  });

  it('reports a real storage error instead of hiding it', async () => {
    const c = new FileStorageClient(workload({ prefill: 1 }), { runId: 'r', rank: 0 });
    await c.setup();
    await rm(c.dir, { recursive: true }); // the storage lost our files behind our back
    await expect(c.execute({ name: 'read', seq: 0 })).rejects.toThrow(/ENOENT/);
    await c.teardown();
  });

  it('FileSet: O(1) add, remove and pick, never above capacity', () => {
    const set = new FileSet(3);
    for (const n of ['a', 'b', 'c', 'd']) set.add(n);
    expect(set.size).toBe(3);
    expect(set.full).toBe(true);
    expect(set.has('d')).toBe(false);
    set.remove('a');
    expect(set.has('a')).toBe(false);
    expect(set.has('c')).toBe(true);
    expect([set.pick(0), set.pick(0.99)].sort()).toEqual(['b', 'c']);
    set.remove('b');
    set.remove('c');
    expect(set.pick(0.5)).toBeUndefined();
  });

  it('stops growing the folder at capacity', async () => {
    const c = new FileStorageClient(workload({ prefill: 3, fileSizes: { '1GiB': 1 } }), { runId: 'r', rank: 0 });
    // Do not allocate 1 GiB in a unit test: check capacity math only.
    expect((c as unknown as { files: FileSet }).files.capacity).toBe(8);
    const small = new FileStorageClient(workload({ prefill: 2, fileSizes: { '512': 1 } }), { runId: 's', rank: 0 });
    (small as unknown as { files: FileSet }).files = new FileSet(4);
    await small.setup();
    for (let i = 0; i < 20; i++) await small.execute({ name: 'write', size: 512, seq: i });
    expect(await readdir(small.dir)).toHaveLength(4);
    expect(small.liveFiles).toBe(4);
    await small.teardown();
  });

  it('clears a folder left by an earlier attempt before prefilling', async () => {
    const c = new FileStorageClient(workload({ prefill: 2 }), { runId: 'again', rank: 0 });
    await c.setup();
    await writeFile(join(c.dir, 'stale'), 'x');
    await c.setup();
    expect((await readdir(c.dir)).sort()).not.toContain('stale');
    await c.teardown();
  });

  it('names an unknown operation in the error', async () => {
    const c = new FileStorageClient(workload({ prefill: 0 }), { runId: 'r', rank: 0 });
    await c.setup();
    await expect(c.execute({ name: 'rename', seq: 0 })).rejects.toThrow(/no operation "rename"/);
    await c.teardown();
  });
});

describe('file-storage config', () => {
  it('returns every problem at once with its path', () => {
    const { problems } = validateFileStorage(workload({ fileSizes: { '4XB': 1, '2GB': 1 } }));
    expect(problems.map((p) => p.path)).toEqual(['workload.fileSizes["4XB"]', 'workload.fileSizes']);
    expect(problems[1].message).toMatch(/1GiB limit/);
  });

  it('the constructor throws a ConfigError before touching the disk', () => {
    let err: unknown;
    try {
      new FileStorageClient(workload({ fileSizes: { lots: 1 } }), { runId: 'r', rank: 0 });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems[0].path).toBe('workload.fileSizes["lots"]');
    expect((err as Error).message).toMatch(/workload.fileSizes\["lots"\]: "lots" is not a size/);
  });

  it('exposes its mix with sizes in bytes', () => {
    const c = new FileStorageClient(workload({ operationMix: { read: 1 }, fileSizes: { '4KB': 2, '1MB': 1 } }), { runId: 'r', rank: 0 });
    expect(c.mix).toEqual({ operations: { read: 1 }, sizes: [{ bytes: 4096, weight: 2 }, { bytes: 1048576, weight: 1 }] });
  });
});
