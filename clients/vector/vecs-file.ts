// Readers for the TEXMEX vector files (SIFT1M, GIST1M, BIGANN): .fvecs (float32),
// .bvecs (uint8) and .ivecs (int32, ground truth). Each record is a little-endian
// int32 dimension, then that many values. Every record is checked, so a truncated
// or mixed file fails naming the file, the byte offset and what was expected.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { extname } from 'node:path';

export type VecsKind = 'fvecs' | 'bvecs' | 'ivecs';

const VALUE_BYTES: Record<VecsKind, number> = { fvecs: 4, bvecs: 1, ivecs: 4 };
/** Larger than any embedding in use; a header past it means this is not a vecs file (or not little-endian). */
const MAX_DIMENSION = 1 << 20;
/** Records are read this many bytes at a time. */
const CHUNK_BYTES = 1 << 22;

export class VecsFileError extends Error {
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(`${file}: ${message}`);
    this.name = 'VecsFileError';
  }
}

export interface VecsFile {
  path: string;
  kind: VecsKind;
  dimension: number;
  /** Records in the file. */
  count: number;
  /** Bytes per record: 4 for the header, then dimension values. */
  recordBytes: number;
}

export function vecsKind(path: string): VecsKind {
  const ext = extname(path).slice(1).toLowerCase();
  if (ext === 'fvecs' || ext === 'bvecs' || ext === 'ivecs') return ext;
  throw new VecsFileError(path, `unknown vector file type "${extname(path) || '(none)'}"; use .fvecs, .bvecs or .ivecs`);
}

/** Opens a file's header and checks its size against it; reads no vectors. */
export function openVecs(path: string): VecsFile {
  const kind = vecsKind(path);
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw new VecsFileError(path, `cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); check the path where the runner runs`);
  }
  try {
    const size = fstatSync(fd).size;
    if (size === 0) throw new VecsFileError(path, 'is empty');
    if (size < 4) throw new VecsFileError(path, `is ${size} bytes: too short for the first record's 4-byte dimension header at offset 0`);
    const head = Buffer.alloc(4);
    readSync(fd, head, 0, 4, 0);
    const dimension = head.readInt32LE(0);
    if (dimension <= 0 || dimension > MAX_DIMENSION) {
      throw new VecsFileError(path, `the header at offset 0 says dimension ${dimension}; expected 1..${MAX_DIMENSION} (is this a little-endian .${kind} file?)`);
    }
    const recordBytes = 4 + dimension * VALUE_BYTES[kind];
    if (size % recordBytes !== 0) {
      const whole = Math.floor(size / recordBytes);
      throw new VecsFileError(
        path,
        `is ${size} bytes, not a whole number of ${recordBytes}-byte records (dimension ${dimension}): ${whole} records end at offset ${whole * recordBytes}, then ${size - whole * recordBytes} bytes of an incomplete record; expected ${(whole + 1) * recordBytes} bytes for ${whole + 1} records (is the file truncated?)`,
      );
    }
    return { path, kind, dimension, count: size / recordBytes, recordBytes };
  } finally {
    closeSync(fd);
  }
}

/**
 * Reads records [start, start + n) into `out` (n * dimension values), checking
 * every record's header. fvecs and bvecs give floats; ivecs gives integers.
 */
export function readVecs<T extends Float32Array | Int32Array>(file: VecsFile, start: number, n: number, out: T): T {
  if (start < 0 || start + n > file.count) {
    throw new VecsFileError(file.path, `has ${file.count} vectors; records ${start}..${start + n - 1} were asked for`);
  }
  const d = file.dimension;
  if (out.length < n * d) throw new Error(`readVecs: the output holds ${out.length} values, ${n * d} needed`);
  const perChunk = Math.max(1, Math.floor(CHUNK_BYTES / file.recordBytes));
  const buf = Buffer.alloc(Math.min(n, perChunk) * file.recordBytes);
  const fd = openSync(file.path, 'r');
  try {
    for (let done = 0; done < n; ) {
      const m = Math.min(perChunk, n - done);
      const offset = (start + done) * file.recordBytes;
      const bytes = m * file.recordBytes;
      let got = 0;
      while (got < bytes) {
        const r = readSync(fd, buf, got, bytes - got, offset + got);
        if (r === 0) throw new VecsFileError(file.path, `ended at offset ${offset + got} while reading; expected ${bytes - got} more bytes (did it change while being read?)`);
        got += r;
      }
      for (let i = 0; i < m; i++) {
        const at = i * file.recordBytes;
        const header = buf.readInt32LE(at);
        if (header !== d) {
          throw new VecsFileError(file.path, `record ${start + done + i} at offset ${offset + at} says dimension ${header}; expected ${d}, as the first record says`);
        }
        const row = (done + i) * d;
        if (file.kind === 'bvecs') for (let j = 0; j < d; j++) out[row + j] = buf[at + 4 + j];
        else if (file.kind === 'fvecs') for (let j = 0; j < d; j++) out[row + j] = buf.readFloatLE(at + 4 + 4 * j);
        else for (let j = 0; j < d; j++) out[row + j] = buf.readInt32LE(at + 4 + 4 * j);
      }
      done += m;
    }
  } finally {
    closeSync(fd);
  }
  return out;
}

/** Writes vectors as a vecs file's bytes (for tests and for users preparing data). */
export function encodeVecs(kind: VecsKind, dimension: number, values: ArrayLike<number>): Buffer {
  const n = values.length / dimension;
  if (!Number.isInteger(n)) throw new Error(`encodeVecs: ${values.length} values are not whole vectors of dimension ${dimension}`);
  const recordBytes = 4 + dimension * VALUE_BYTES[kind];
  const buf = Buffer.alloc(n * recordBytes);
  for (let i = 0; i < n; i++) {
    const at = i * recordBytes;
    buf.writeInt32LE(dimension, at);
    for (let j = 0; j < dimension; j++) {
      const v = values[i * dimension + j];
      if (kind === 'fvecs') buf.writeFloatLE(v, at + 4 + 4 * j);
      else if (kind === 'ivecs') buf.writeInt32LE(v, at + 4 + 4 * j);
      else buf[at + 4 + j] = v;
    }
  }
  return buf;
}
