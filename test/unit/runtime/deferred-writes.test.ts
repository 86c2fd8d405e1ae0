// While the queue is busy a status write is only noted; a flush writes each
// noted key once, stops when the queue fills again, and at shutdown writes all.
import { describe, expect, it } from 'vitest';
import { DeferredWrites } from '../../../controller/runtime/deferred-writes.js';

function setup() {
  let busy = true;
  const written: string[] = [];
  let onWrite: (key: string) => void = () => {};
  const writes = new DeferredWrites({
    busy: () => busy,
    write: async (key) => {
      written.push(key);
      onWrite(key);
    },
  });
  return { writes, written, setBusy: (b: boolean) => (busy = b), onWrite: (f: (key: string) => void) => (onWrite = f) };
}

describe('DeferredWrites', () => {
  it('notes writes while busy and writes each noted key once when flushed', async () => {
    const { writes, written, setBusy } = setup();
    expect(writes.defer('a')).toBe(true);
    expect(writes.defer('b')).toBe(true);
    expect(writes.defer('a')).toBe(true);
    expect(writes.size).toBe(2);
    await writes.flush();
    expect(written).toEqual([]);
    setBusy(false);
    await writes.flush();
    expect(written).toEqual(['a', 'b']);
    expect(writes.size).toBe(0);
  });

  it('lets a write go at once when not busy, dropping the one noted for that key', async () => {
    const { writes, written, setBusy } = setup();
    writes.defer('a');
    writes.defer('b');
    setBusy(false);
    expect(writes.defer('a')).toBe(false);
    await writes.flush();
    expect(written).toEqual(['b']);
  });

  it('stops flushing when the queue is busy again, and a forced flush writes the rest', async () => {
    const { writes, written, setBusy, onWrite } = setup();
    for (const k of ['a', 'b', 'c', 'd']) writes.defer(k);
    setBusy(false);
    onWrite((key) => key === 'b' && setBusy(true));
    await writes.flush();
    expect(written).toEqual(['a', 'b']);
    await writes.flush(true);
    expect(written).toEqual(['a', 'b', 'c', 'd']);
  });

  it('runs one flush at a time: a second call joins the first', async () => {
    const { writes, written, setBusy } = setup();
    for (const k of ['a', 'b', 'c']) writes.defer(k);
    setBusy(false);
    const first = writes.flush();
    expect(writes.flush()).toBe(first);
    await first;
    expect(written).toEqual(['a', 'b', 'c']);
  });

  it('writes a key noted during a flush in the same flush', async () => {
    const { writes, written, setBusy, onWrite } = setup();
    writes.defer('a');
    setBusy(false);
    onWrite((key) => {
      if (key !== 'a') return;
      setBusy(true);
      writes.defer('late');
      setBusy(false);
    });
    await writes.flush();
    expect(written).toEqual(['a', 'late']);
  });
});
