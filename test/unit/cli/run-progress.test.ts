// The foreground run's progress: a bar redrawn in place on a terminal, plain
// lines now and then in a log, and the share done by time or by requests.
import { describe, expect, it } from 'vitest';
import { doneShare, progressLine, ProgressView } from '../../../controller/cli/run-progress.js';

const p = (elapsedMs: number, requests = 1000, errors = 0) => ({ elapsedMs, requests, errors, rps: 250.4, p99Ms: 12.34 });

describe('progressLine', () => {
  it('shows the bar, the share, the clock, requests, rate, p99, errors and time left', () => {
    expect(progressLine(p(4500, 12345, 3), { totalMs: 10_000, warmupMs: 0 })).toBe('[========>           ]  45%  4.5s/10s  12345 req  250 req/s  p99 12.3ms  3 err  5.5s left');
  });

  it('says warmup while in it, and counts requests against maxRequests when only that bounds the run', () => {
    expect(progressLine(p(500), { totalMs: 10_000, warmupMs: 1000 })).toContain('warmup  0.5s/10s');
    expect(doneShare(p(60_000, 250), { warmupMs: 0, maxRequests: 1000 })).toBe(0.25);
    expect(progressLine(p(60_000, 250), { warmupMs: 0, maxRequests: 1000 }, 0)).toBe(' 25%  60s  250 req  250 req/s  p99 12.3ms');
    expect(doneShare(p(1000), { warmupMs: 0 })).toBeUndefined();
  });
});

describe('ProgressView', () => {
  it('redraws one line in place on a terminal and ends it once', () => {
    let out = '';
    const v = new ProgressView((s) => (out += s), true, { totalMs: 2000, warmupMs: 0 });
    v.show(p(1000));
    v.show(p(2000));
    v.done();
    expect(out.split('\r\x1b[2K')).toHaveLength(3);
    expect(out.endsWith('left\n')).toBe(true);
    expect(out.match(/\n/g)).toHaveLength(1);
  });

  it('prints plain lines no more often than asked in a log', () => {
    let out = '';
    const v = new ProgressView((s) => (out += s), false, { totalMs: 20_000, warmupMs: 0 }, 5000);
    for (let ms = 1000; ms <= 12_000; ms += 1000) v.show(p(ms));
    v.done();
    expect(out.trim().split('\n').map((l) => l.split('  ')[1])).toEqual(['1.0s/20s', '6.0s/20s', '11s/20s']);
    expect(out).not.toContain('[');
  });
});
