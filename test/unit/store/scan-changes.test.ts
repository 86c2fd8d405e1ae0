// What keeps a thousand idle resources cheap without losing a user's edit: a
// scan reports the files whose documents changed (never the controller's own
// status writes), and a save that lands in place on the file a status write is
// replacing is written back with the status, not lost.
import { readFile, writeFile } from 'node:fs/promises';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileStore } from '../../../controller/store/file-store.js';
import { writeStatus } from '../../../controller/store/status-writer.js';
import { service, tempDir } from './fixtures.js';

describe('FileStore.scan changes', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => ({ dir, cleanup } = await tempDir()));
  afterEach(() => cleanup());

  it('reports new files, not its own status writes, and every edit by someone else', async () => {
    const a = join(dir, 'a.yaml');
    const b = join(dir, 'b.yaml');
    await writeFile(a, service('a'));
    await writeFile(b, service('b'));
    const store = new FileStore({ resourcesDir: dir });
    expect([...(await store.scan()).changed].sort()).toEqual([a, b]);
    expect((await store.scan()).changed.size).toBe(0);

    await store.writeStatus({ file: a, index: 0, kind: 'Service', name: 'a' }, { phase: 'Starting' });
    await store.writeStatus({ file: a, index: 0, kind: 'Service', name: 'a' }, { phase: 'Ready' });
    const afterOwn = await store.scan();
    expect(afterOwn.changed.size).toBe(0);
    // The scan still sees what is in the file.
    expect(afterOwn.docs.find((d) => d.key === 'Service/a')?.status).toEqual({ phase: 'Ready' });

    // A spec edit, and an old status saved back by an editor: both are someone else's.
    await writeFile(b, service('b').replace('sleep', 'sleeper'));
    expect([...(await store.scan()).changed]).toEqual([b]);
    await writeFile(a, `${service('a')}status:\n  phase: Starting\n`);
    expect([...(await store.scan()).changed]).toEqual([a]);
  });

  it('says when a status write found a text it had not seen, so the edit is not taken for its own write', async () => {
    const a = join(dir, 'a.yaml');
    await writeFile(a, service('a'));
    const foreign: string[] = [];
    const store = new FileStore({ resourcesDir: dir, onForeignText: (f) => foreign.push(f) });
    await store.scan();
    await store.writeStatus({ file: a, index: 0, kind: 'Service', name: 'a' }, { phase: 'Starting' });
    expect(foreign).toEqual([]);
    await writeFile(a, (await readFile(a, 'utf8')).replace('sleep', 'sleeper'));
    await store.writeStatus({ file: a, index: 0, kind: 'Service', name: 'a' }, { phase: 'Ready' });
    expect(foreign).toEqual([a]);
    expect(await store.isOwnWrite(a)).toBe(true);
    // The scan that follows sees the spec change, though the text is the one the store wrote.
    expect([...(await store.scan()).changed]).toEqual([a]);
  });
});

describe('writeStatus and a save in place during the rename', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => ({ dir, cleanup } = await tempDir()));
  afterEach(() => cleanup());

  it('writes the user text that landed on the replaced file back, with the status', async () => {
    const file = join(dir, 'a.yaml');
    await writeFile(file, service('a'));
    const edited = service('a').replace('sleep', 'sleeper');
    let saves = 0;
    const r = await writeStatus(file, { kind: 'Service', name: 'a', index: 0 }, { phase: 'Ready' }, {
      // Between the store's last read and its rename: the file is written in place, as `>` or an editor keeping the inode does.
      afterReread: () => {
        if (saves++ === 0) writeFileSync(file, edited);
      },
    });
    expect(r.outcome).toBe('written');
    expect(await readFile(file, 'utf8')).toBe(`${edited}status:\n  phase: Ready\n`);
    expect(saves).toBe(2);
  });
});
