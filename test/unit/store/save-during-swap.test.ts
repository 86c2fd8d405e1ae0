// A save that lands in the microseconds between the status writer's last
// re-read and its swap. With the native exchange (native/rename-exchange) a
// save by rename is seen by its inode before the swap, or handed back by the
// swap itself when it lands just before it, and written again with the status, one that dropped the document or broke the
// YAML goes back as saved, and a deleted file stays deleted. The same saves
// through rename(2) (exchange: null) show what the exchange closes.
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { renameExchange } from '../../../controller/store/rename-exchange.js';
import { StoreError, writeStatus, type WriteStatusOptions } from '../../../controller/store/status-writer.js';
import { benchmark, service, tempDir } from './fixtures.js';

const REF = { kind: 'Service', name: 'a', index: 0 };
const READY = `status:\n  phase: Ready\n`;

describe('a save between the status writer re-read and its swap', () => {
  let dir: string;
  let file: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir());
    file = join(dir, 'a.yaml');
    await writeFile(file, service('a'));
  });
  afterEach(() => cleanup());

  /** Saves `text` by rename, as vim and most editors do, once: in the window of the first try. */
  const savedByRename = (text: string): WriteStatusOptions['afterReread'] => {
    let saves = 0;
    return () => {
      if (saves++ > 0) return;
      writeFileSync(join(dir, '.a.yaml.swp'), text);
      renameSync(join(dir, '.a.yaml.swp'), file);
    };
  };

  it('has the exchange: scripts/build-native.sh built .cache/native/rename-exchange.node (npm run build runs it)', () => {
    expect(renameExchange).toBeTypeOf('function');
  });

  /** Saves `text` in place (truncate and write, keeping the inode), once. */
  const savedInPlace = (text: string): WriteStatusOptions['afterReread'] => {
    let saves = 0;
    return () => {
      if (saves++ === 0) writeFileSync(file, text);
    };
  };

  for (const [how, save] of [
    ['by rename', savedByRename],
    ['in place', savedInPlace],
  ] as const) {
    it(`puts a save ${how} back in place at once, then writes it with the status, leaving no temp file`, async () => {
      const edited = service('a').replace('sleep', 'sleeper');
      const seen: string[] = [];
      const r = await writeStatus(file, REF, { phase: 'Ready' }, {
        afterReread: save(edited),
        // The next try starts from the file: it already holds the save again, not our text without it.
        beforeRename: async (attempt) => void (attempt === 2 && seen.push(await readFile(file, 'utf8'))),
      });
      expect(r.outcome).toBe('written');
      expect(seen).toEqual([edited]);
      expect(await readFile(file, 'utf8')).toBe(`${edited}${READY}`);
      expect(await readdir(dir)).toEqual(['a.yaml']);
    });
  }

  it('loses a save by rename through rename(2), which is why the exchange is there', async () => {
    const edited = service('a').replace('sleep', 'sleeper');
    const r = await writeStatus(file, REF, { phase: 'Ready' }, { afterReread: savedByRename(edited), exchange: null });
    expect(r.outcome).toBe('written');
    expect(await readFile(file, 'utf8')).toBe(`${service('a')}${READY}`);
  });

  /** The native exchange, after `before(call)`: a save landing between the writer's last look and the system call. */
  const exchangeAfter = (before: (call: number) => void) => {
    let calls = 0;
    const exchange = (a: string, b: string) => {
      before(++calls);
      renameExchange!(a, b);
    };
    return { exchange, calls: () => calls };
  };

  it('sees a save by rename in the window by its inode and never puts our text in its place', async () => {
    const edited = service('a').replace('sleep', 'sleeper');
    const inPlace: string[] = [];
    // Each exchange records what the file held just before it: our text may only replace the save once it has the save.
    const { exchange, calls } = exchangeAfter(() => inPlace.push(readFileSync(file, 'utf8')));
    const r = await writeStatus(file, REF, { phase: 'Ready' }, { afterReread: savedByRename(edited), exchange });
    expect(r.outcome).toBe('written');
    expect([calls(), inPlace]).toEqual([1, [edited]]);
    expect(await readFile(file, 'utf8')).toBe(`${edited}${READY}`);
    expect(await readdir(dir)).toEqual(['a.yaml']);
  });

  it('puts back at once a save by rename that lands after that look, just before the exchange', async () => {
    const edited = service('a').replace('sleep', 'sleeper');
    const { exchange, calls } = exchangeAfter((call) => void (call === 1 && savedByRename(edited)!()));
    const r = await writeStatus(file, REF, { phase: 'Ready' }, { exchange });
    expect(r.outcome).toBe('written');
    // In, back out, then the second try's.
    expect(calls()).toBe(3);
    expect(await readFile(file, 'utf8')).toBe(`${edited}${READY}`);
    expect(await readdir(dir)).toEqual(['a.yaml']);
  });

  it('keeps the newer of two saves when a second replaces our text before the first is put back', async () => {
    const first = service('a').replace('sleep', 'first');
    const second = service('a').replace('sleep', 'second');
    // The first lands just before the exchange; the second just before the exchange that puts the first back.
    const { exchange } = exchangeAfter((call) => {
      if (call === 1) savedByRename(first)!();
      if (call === 2) savedByRename(second)!();
    });
    const r = await writeStatus(file, REF, { phase: 'Ready' }, { exchange });
    expect(r.outcome).toBe('written');
    expect(await readFile(file, 'utf8')).toBe(`${second}${READY}`);
    expect(await readdir(dir)).toEqual(['a.yaml']);
  });

  // The same saves through rename(2): one in place lands on the replaced file and is held in memory until written back.
  for (const exchange of [undefined, null]) {
    const through = exchange === null ? 'rename(2), a save in place' : 'the exchange, a save by rename';
    const save = exchange === null ? savedInPlace : savedByRename;

    it(`${through}: puts back as saved a save that no longer has the document, and says gone`, async () => {
      const other = benchmark('b');
      const r = await writeStatus(file, REF, { phase: 'Ready' }, { afterReread: save(other), exchange });
      expect(r.outcome).toBe('gone');
      expect(await readFile(file, 'utf8')).toBe(other);
    });

    it(`${through}: puts back as saved a save with broken YAML, then refuses with the reason`, async () => {
      const broken = `${service('a')}  bad: [unclosed\n`;
      const write = writeStatus(file, REF, { phase: 'Ready' }, { afterReread: save(broken), exchange });
      await expect(write).rejects.toThrow(StoreError);
      await expect(write).rejects.toThrow(/a\.yaml has invalid YAML .*fix the syntax first/);
      expect(await readFile(file, 'utf8')).toBe(broken);
    });
  }

  it('leaves a file deleted in the window deleted, where rename(2) would bring it back', async () => {
    const r = await writeStatus(file, REF, { phase: 'Ready' }, { afterReread: () => rmSync(file) });
    expect(r.outcome).toBe('gone');
    expect(await readdir(dir)).toEqual([]);
  });

  it('falls back to rename(2) where the file system has no exchange (EINVAL, as on NFS)', async () => {
    const calls: string[] = [];
    const noExchange = (a: string, b: string) => {
      calls.push(`${a} ${b}`);
      throw Object.assign(new Error('EINVAL: cannot exchange'), { code: 'EINVAL' });
    };
    const r = await writeStatus(file, REF, { phase: 'Ready' }, { exchange: noExchange });
    expect(r.outcome).toBe('written');
    expect(calls).toHaveLength(1);
    expect(await readFile(file, 'utf8')).toBe(`${service('a')}${READY}`);
    expect(await readdir(dir)).toEqual(['a.yaml']);
  });

  it('says why when the exchange fails otherwise, and leaves the file as it was', async () => {
    const denied = () => {
      throw Object.assign(new Error('EACCES: cannot exchange'), { code: 'EACCES' });
    };
    await expect(writeStatus(file, REF, { phase: 'Ready' }, { exchange: denied })).rejects.toThrow(/cannot replace a\.yaml: EACCES/);
    expect(await readFile(file, 'utf8')).toBe(service('a'));
    expect(await readdir(dir)).toEqual(['a.yaml']);
  });
});
