// The TEXMEX readers on small files written here: values read back exactly,
// and a broken file fails naming the file, the offset and what was expected.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeVecs, openVecs, readVecs } from '../../../../clients/vector/vecs-file.js';

const dir = mkdtempSync(join(tmpdir(), 'aifb-vecs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, bytes: Buffer) => {
  const p = join(dir, name);
  writeFileSync(p, bytes);
  return p;
};

describe('vecs files', () => {
  it('reads .fvecs, .bvecs and .ivecs records as written, from any start', () => {
    const floats = [0.5, -1.25, 3, 1e-3, 7, 8, 9.5, 10];
    const f = openVecs(file('a.fvecs', encodeVecs('fvecs', 2, floats)));
    expect(f).toMatchObject({ kind: 'fvecs', dimension: 2, count: 4, recordBytes: 12 });
    expect(Array.from(readVecs(f, 0, 4, new Float32Array(8)))).toEqual(Array.from(Float32Array.from(floats)));
    expect(Array.from(readVecs(f, 2, 2, new Float32Array(4)))).toEqual([7, 8, 9.5, 10]);

    const b = openVecs(file('a.bvecs', encodeVecs('bvecs', 3, [0, 128, 255, 1, 2, 3])));
    expect(b).toMatchObject({ kind: 'bvecs', dimension: 3, count: 2, recordBytes: 7 });
    expect(Array.from(readVecs(b, 0, 2, new Float32Array(6)))).toEqual([0, 128, 255, 1, 2, 3]);

    const i = openVecs(file('gt.ivecs', encodeVecs('ivecs', 3, [5, 1, 900000, 2, 0, 7])));
    expect(Array.from(readVecs(i, 0, 2, new Int32Array(6)))).toEqual([5, 1, 900000, 2, 0, 7]);
  });

  it('refuses a truncated file, naming the file, where the last whole record ends and the size expected', () => {
    const whole = encodeVecs('fvecs', 4, Array.from({ length: 12 }, (_, j) => j));
    const p = file('cut.fvecs', whole.subarray(0, whole.length - 3));
    // 3 records of 20 bytes; 57 bytes leave 2 whole ones (40 bytes) and 17 bytes of the third.
    expect(() => openVecs(p)).toThrow(`${p}: is 57 bytes, not a whole number of 20-byte records (dimension 4): 2 records end at offset 40, then 17 bytes of an incomplete record; expected 60 bytes for 3 records (is the file truncated?)`);
  });

  it('refuses a record whose header disagrees with the first, naming its offset', () => {
    const a = encodeVecs('fvecs', 2, [1, 2, 3, 4]);
    a.writeInt32LE(3, 12); // the second record claims dimension 3
    const f = openVecs(file('mixed.fvecs', a));
    expect(() => readVecs(f, 0, 2, new Float32Array(4))).toThrow(/mixed\.fvecs: record 1 at offset 12 says dimension 3; expected 2/);
  });

  it('refuses an empty file, a nonsense header and an unknown extension', () => {
    expect(() => openVecs(file('empty.fvecs', Buffer.alloc(0)))).toThrow(/empty\.fvecs: is empty/);
    const big = Buffer.alloc(8);
    big.writeInt32BE(16, 0); // big-endian 16 reads as 268435456 little-endian
    expect(() => openVecs(file('be.fvecs', big))).toThrow(/be\.fvecs: the header at offset 0 says dimension 268435456; expected 1\.\.1048576 \(is this a little-endian \.fvecs file\?\)/);
    expect(() => openVecs(file('a.npy', Buffer.alloc(8)))).toThrow(/unknown vector file type "\.npy"; use \.fvecs, \.bvecs or \.ivecs/);
    expect(() => openVecs(join(dir, 'missing.fvecs'))).toThrow(/missing\.fvecs: cannot be read \(ENOENT\)/);
  });
});
