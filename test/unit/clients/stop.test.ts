import { describe, expect, it } from 'vitest';
import { rankShare, stopReason } from '../../../clients/engine/stop.js';

describe('stopReason', () => {
  const base = { elapsedMs: 0, measuredSent: 0, aborted: false };

  it('duration counts after warmup', () => {
    const limits = { durationMs: 1000, warmupMs: 500 };
    expect(stopReason(limits, { ...base, elapsedMs: 1000 })).toBeUndefined();
    expect(stopReason(limits, { ...base, elapsedMs: 1499.9 })).toBeUndefined();
    expect(stopReason(limits, { ...base, elapsedMs: 1500 })).toBe('duration');
  });

  it('maxRequests counts only requests sent after warmup', () => {
    const limits = { warmupMs: 500, maxRequests: 10 };
    expect(stopReason(limits, { ...base, elapsedMs: 1e9, measuredSent: 9 })).toBeUndefined();
    expect(stopReason(limits, { ...base, measuredSent: 10 })).toBe('maxRequests');
  });

  it('a signal wins over every other rule', () => {
    expect(stopReason({ durationMs: 1, warmupMs: 0, maxRequests: 1 }, { elapsedMs: 5, measuredSent: 5, aborted: true })).toBe('signal');
  });

  it('the first limit reached decides', () => {
    const limits = { durationMs: 1000, warmupMs: 0, maxRequests: 100 };
    expect(stopReason(limits, { ...base, elapsedMs: 200, measuredSent: 100 })).toBe('maxRequests');
    expect(stopReason(limits, { ...base, elapsedMs: 1000, measuredSent: 3 })).toBe('duration');
  });

  it('no limits never stops on its own', () => {
    expect(stopReason({ warmupMs: 0 }, { ...base, elapsedMs: 1e12, measuredSent: 1e12 })).toBeUndefined();
  });
});

describe('rankShare', () => {
  it('splits a total so the shares add up exactly', () => {
    const shares = [0, 1, 2].map((r) => rankShare(10, 3, r));
    expect(shares).toEqual([4, 3, 3]);
    expect(shares.reduce((a, b) => a + b)).toBe(10);
    expect(rankShare(2, 4, 3)).toBe(0);
  });
});
