// A pull's progress becomes a handful of events, however many lines Ollama sends.
import { describe, expect, it } from 'vitest';
import { bytesText, PullProgress } from '../../../controller/health/pull-progress.js';

const GB = 1_321_098_329;
const weights = (completed: number, total = GB) => ({ status: 'pulling dde5aa3fc5ff', digest: 'sha256:dde5aa3fc5ff', total, completed });

describe('pull progress', () => {
  it('tells each quarter of the bytes once, out of thousands of lines, and leaves 100% to the success', () => {
    const p = new PullProgress('llama3.2:1b', () => 0);
    const told: string[] = [];
    // Ollama sends a line every 60 ms: a 1.3 GB pull at 5 MB/s is about 4000 lines.
    for (let i = 0; i <= 4000; i++) {
      const m = p.take(weights(Math.round((GB * i) / 4000)));
      if (m) told.push(m);
    }
    expect(told).toEqual(['pulling llama3.2:1b: 25% of 1.3 GB', 'pulling llama3.2:1b: 50% of 1.3 GB', 'pulling llama3.2:1b: 75% of 1.3 GB']);
  });

  it('sums the layers, and a small layer announced after the big one does not repeat a quarter', () => {
    const p = new PullProgress('m', () => 0);
    expect(p.take({ status: 'pulling manifest' })).toBeUndefined();
    expect(p.take(weights(GB / 2))).toBe('pulling m: 50% of 1.3 GB');
    expect(p.take(weights(GB))).toBeUndefined();
    expect(p.take({ status: 'pulling 966de95ca8a6', digest: 'sha256:966de95ca8a6', total: 1_429, completed: 0 })).toBeUndefined();
    expect(p.bytes).toEqual({ completed: GB, total: GB + 1_429 });
    expect(p.amount()).toBe('99% of 1.3 GB');
  });

  it('on a slow link, says it is still going every two minutes between quarters, but not when nothing moved', () => {
    let now = 0;
    const p = new PullProgress('m', () => now);
    expect(p.take(weights(1_000_000))).toBeUndefined();
    now = 119_000;
    expect(p.take(weights(2_000_000))).toBeUndefined();
    now = 121_000;
    expect(p.take(weights(3_000_000))).toBe('pulling m: 0% of 1.3 GB');
    now = 300_000;
    // A stalled download: no new bytes, no event.
    expect(p.take(weights(3_000_000))).toBeUndefined();
    expect(p.take(weights(4_000_000))).toBe('pulling m: 0% of 1.3 GB');
  });

  it('prints sizes in decimal units, as Ollama does', () => {
    expect(bytesText(96)).toBe('96 B');
    expect(bytesText(1_321_098_329)).toBe('1.3 GB');
    expect(bytesText(4_661_224_676)).toBe('4.7 GB');
    expect(bytesText(136_000_000)).toBe('136 MB');
  });
});
