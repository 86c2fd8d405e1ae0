// Two collections after each burst of work, once it is quiet; none while work
// goes on or after a trickle; and with V8's own collection the second gives
// back the young generation the burst grew.
import { getHeapSpaceStatistics } from 'node:v8';
import { SimulatedClock } from 'xstate';
import { describe, expect, it } from 'vitest';
import { SettleCollector, youngCollection } from '../../../controller/runtime/settle-collector.js';

function setup(minWork = 3) {
  const simulated = new SimulatedClock();
  let collections = 0;
  const settle = new SettleCollector({ collect: () => collections++, clock: simulated, quietMs: 5_000, minWork });
  const work = (n: number) => {
    for (let i = 0; i < n; i++) settle.noteWork();
  };
  // A second at a time: SimulatedClock runs a timer set while it runs others only at its next increment.
  const clock = {
    increment: (ms: number) => {
      for (; ms > 0; ms -= 1_000) simulated.increment(Math.min(ms, 1_000));
    },
  };
  return { clock, settle, work, collections: () => collections };
}

describe('SettleCollector', () => {
  it('collects once a burst has been quiet for quietMs, again a quiet spell later, and then no more', () => {
    const { clock, work, collections } = setup();
    work(10);
    clock.increment(4_999);
    expect(collections()).toBe(0);
    clock.increment(1);
    expect(collections()).toBe(1);
    clock.increment(4_999);
    expect(collections()).toBe(1);
    clock.increment(1);
    expect(collections()).toBe(2);
    clock.increment(60_000);
    expect(collections()).toBe(2);
  });

  it('waits while work keeps coming', () => {
    const { clock, work, collections } = setup();
    for (let s = 0; s < 60; s++) {
      work(5);
      clock.increment(1_000);
    }
    expect(collections()).toBe(0);
    clock.increment(4_000);
    expect(collections()).toBe(1);
  });

  it('puts the second collection off while a little work comes between', () => {
    const { clock, work, collections } = setup(3);
    work(3);
    clock.increment(5_000);
    expect(collections()).toBe(1);
    clock.increment(3_000);
    work(1);
    clock.increment(4_000);
    expect(collections()).toBe(1);
    clock.increment(1_000);
    expect(collections()).toBe(2);
  });

  it('leaves a trickle of work alone until it adds up to minWork', () => {
    const { clock, work, collections } = setup(3);
    work(1);
    clock.increment(10_000);
    work(1);
    clock.increment(10_000);
    expect(collections()).toBe(0);
    work(1);
    clock.increment(20_000);
    expect(collections()).toBe(2);
    // The count starts again after a collection.
    work(2);
    clock.increment(20_000);
    expect(collections()).toBe(2);
  });

  it('collects after each burst, and never once stopped', () => {
    const { clock, settle, work, collections } = setup();
    work(5);
    clock.increment(10_000);
    work(5);
    clock.increment(10_000);
    expect(collections()).toBe(4);
    work(5);
    settle.stop();
    clock.increment(60_000);
    work(5);
    clock.increment(60_000);
    expect(collections()).toBe(4);
  });
});

describe('youngCollection', () => {
  const youngMiB = () => getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')!.space_size / 2 ** 20;

  it('gives back the young generation a burst grew, on the second collection after it, and leaves gc off the global object', { timeout: 30_000 }, async () => {
    const collect = youngCollection();
    expect(collect).toBeTypeOf('function');
    expect((globalThis as { gc?: unknown }).gc).toBeUndefined();
    // A burst whose objects live a while grows the young generation, as 1,000 files read at once do.
    let kept: unknown[][] = [];
    for (let round = 0; round < 400 && youngMiB() < 8; round++) {
      const batch: unknown[] = [];
      for (let i = 0; i < 50_000; i++) batch.push({ i, s: `resource-${i}` });
      kept.push(batch);
      if (kept.length > 4) kept = kept.slice(1);
    }
    const grown = youngMiB();
    expect(grown).toBeGreaterThanOrEqual(8);
    kept = [];
    const sizes: number[] = [];
    const clock = { now: () => Date.now(), setTimeout: (fn: () => void, ms: number) => setTimeout(fn, ms), clearTimeout: (h: unknown) => clearTimeout(h as NodeJS.Timeout) };
    const settle = new SettleCollector({ collect: () => (collect!(), sizes.push(youngMiB())), clock, minWork: 1 });
    settle.noteWork();
    // The burst's tail, as the status writes after the last reconcile: tens of KB/ms for 4 s,
    // enough that the first collection finds the allocation fast even on a busy machine.
    const tailEnds = Date.now() + 4_000;
    while (Date.now() < tailEnds) {
      kept.push(Array.from({ length: 5_000 }, (_, i) => ({ i })));
      if (kept.length > 2) kept = kept.slice(1);
      await new Promise((r) => setTimeout(r, 10));
    }
    kept = [];
    await new Promise((r) => setTimeout(r, 9_000));
    settle.stop();
    expect(sizes).toHaveLength(2);
    expect(sizes[0]).toBeGreaterThanOrEqual(grown);
    expect(sizes[1]).toBeLessThan(grown / 2);
  });
});
