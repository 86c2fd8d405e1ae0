// The stream-reader benchmark end to end on tiny sizes: both readers run and
// record the same token chunks. No number is judged here.
import { describe, expect, it } from 'vitest';
import { measureReaders } from '../../bench/stream-reader.js';

describe('npm run bench -- stream-reader', () => {
  it("times aifb's reader and JSON.parse of every event on the same answers, and both record every token", () => {
    const r = measureReaders({ answers: 2000, rounds: 2 });
    expect(r.aifbChunks).toBe(2000 * 16);
    expect(r.peerChunks).toBe(r.aifbChunks);
    expect(r.aifbUs).toBeGreaterThan(0);
    expect(r.peerUs).toBeGreaterThan(0);
  });
});
