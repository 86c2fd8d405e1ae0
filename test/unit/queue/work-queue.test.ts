import { describe, expect, it } from 'vitest';
import { WorkQueue } from '../../../controller/queue/work-queue.js';
import type { Clock } from '../../../controller/runtime/clock.js';

/** A clock whose timers fire only when the test advances it. */
function fakeClock() {
  let now = 0;
  let timers: { at: number; fn: () => void; id: number }[] = [];
  let next = 1;
  const clock: Clock & { advance(ms: number): void; now(): number; pending(): number } = {
    setTimeout(fn, ms) {
      const id = next++;
      timers.push({ at: now + ms, fn, id });
      return id;
    },
    clearTimeout(h) {
      timers = timers.filter((t) => t.id !== h);
    },
    advance(ms) {
      now += ms;
      const due = timers.filter((t) => t.at <= now).sort((a, b) => a.at - b.at);
      timers = timers.filter((t) => t.at > now);
      due.forEach((t) => t.fn());
    },
    now: () => now,
    pending: () => timers.length,
  };
  return clock;
}

const tick = () => new Promise((r) => setImmediate(r));

describe('WorkQueue', () => {
  it('deduplicates a key added many times while queued', async () => {
    const seen: string[] = [];
    const q = new WorkQueue(async (k) => void seen.push(k), { workers: 1 });
    q.add('Benchmark/a');
    q.add('Benchmark/a');
    q.add('Benchmark/b');
    q.add('Benchmark/a');
    q.start();
    await q.idle();
    expect(seen).toEqual(['Benchmark/a', 'Benchmark/b']);
  });

  it('never runs one key twice at once, and reruns it once if added while running', async () => {
    let active = 0;
    let maxActive = 0;
    let runs = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const q = new WorkQueue(
      async () => {
        active++;
        runs++;
        maxActive = Math.max(maxActive, active);
        if (runs === 1) await gate;
        active--;
      },
      { workers: 4 },
    );
    q.start();
    q.add('k');
    await tick();
    q.add('k');
    q.add('k');
    await tick();
    expect(q.isProcessing('k')).toBe(true);
    release();
    await q.idle();
    await q.idle();
    expect(maxActive).toBe(1);
    expect(runs).toBe(2);
  });

  it('runs different keys in parallel up to the worker count', async () => {
    let active = 0;
    let maxActive = 0;
    const q = new WorkQueue(
      async () => {
        active++;
        maxActive = Math.max(maxActive, active);
        await new Promise((r) => setTimeout(r, 5));
        active--;
      },
      { workers: 2 },
    );
    q.start();
    ['a', 'b', 'c', 'd'].forEach((k) => q.add(k));
    await q.idle();
    expect(maxActive).toBe(2);
  });

  it('requeues a failing key with exponential backoff and resets after success', async () => {
    const clock = fakeClock();
    const delays: (number | undefined)[] = [];
    let calls = 0;
    const q = new WorkQueue(
      async () => {
        calls++;
        if (calls <= 3) throw new Error('slurmctld not answering');
      },
      { clock, baseDelayMs: 100, maxDelayMs: 250, onError: (_k, _e, d) => delays.push(d) },
    );
    q.start();
    q.add('k');
    await q.idle();
    expect(calls).toBe(1);
    clock.advance(99);
    await q.idle();
    expect(calls).toBe(1);
    clock.advance(1);
    await q.idle();
    expect(calls).toBe(2);
    clock.advance(200);
    await q.idle();
    expect(calls).toBe(3);
    clock.advance(250);
    await q.idle();
    expect(calls).toBe(4);
    expect(delays).toEqual([100, 200, 250]);
    expect(q.backoffFor('k')).toBe(100);
  });

  it('honours requeueAfterMs and keeps the earliest of two delayed adds', async () => {
    const clock = fakeClock();
    let calls = 0;
    const q = new WorkQueue(async () => (++calls === 1 ? { requeueAfterMs: 1000 } : undefined), { clock });
    q.start();
    q.add('k');
    await q.idle();
    q.addAfter('k', 5000);
    clock.advance(999);
    await q.idle();
    expect(calls).toBe(1);
    clock.advance(1);
    await q.idle();
    expect(calls).toBe(2);
    expect(clock.pending()).toBe(0);
  });

  it('takes keys the user changed before keys the controller queued, each once', async () => {
    const seen: string[] = [];
    const q = new WorkQueue(async (k) => void seen.push(k), { workers: 1 });
    q.add('Benchmark/a');
    q.add('Benchmark/b');
    q.addChanged('Benchmark/c');
    // Already queued by the controller, now changed by the user: moves ahead, not added twice.
    q.addChanged('Benchmark/a');
    q.addChanged('Benchmark/c');
    expect(q.depth).toBe(3);
    q.start();
    await q.idle();
    expect(seen).toEqual(['Benchmark/c', 'Benchmark/a', 'Benchmark/b']);
  });

  it('lets other work run between reconciles that wait on nothing', async () => {
    const seen: string[] = [];
    const q = new WorkQueue(async (k) => void seen.push(k), { workers: 4 });
    for (let i = 0; i < 100; i++) q.add(`Service/s${i}`);
    q.start();
    let doneWhenOthersRan = -1;
    setImmediate(() => (doneWhenOthersRan = seen.length));
    await q.idle();
    expect(seen).toHaveLength(100);
    expect(doneWhenOthersRan).toBeGreaterThanOrEqual(0);
    expect(doneWhenOthersRan).toBeLessThan(100);
  });
});
