// The runner memory benchmark end to end on tiny sizes: two real runner
// processes against the loopback server, their RSS read, each run's reports and
// SQLite row built. No number is judged here.
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { measureRunnerMemory, table } from '../../bench/runner-memory.js';

describe('npm run bench -- memory', () => {
  it('runs the runner process to maxRequests, samples its RSS and builds each run\'s reports', async () => {
    const sizes = [2000, 20_000];
    const rows = await measureRunnerMemory({ sizes, connections: 8, warmup: '200ms', sampleMs: 50, reportRounds: 1 });
    expect(rows.map((r) => r.maxRequests)).toEqual(sizes);
    for (const r of rows) {
      expect(r.requests, 'measured requests are exactly maxRequests').toBe(r.maxRequests);
      expect(r.errors).toBe(0);
      expect(r.samples).toBeGreaterThan(0);
      expect(r.rssWarmMiB).toBeGreaterThan(10);
      expect(r.rssEndMiB).toBeGreaterThan(10);
      expect(r.rssPeakMiB).toBeGreaterThanOrEqual(Math.max(r.rssWarmMiB, r.rssEndMiB));
      expect(r.peakAtS).toBeGreaterThan(0);
      expect(r.peakAtS).toBeLessThanOrEqual(r.wallS);
      expect(r.rps).toBeGreaterThan(0);
      expect(r.timeseriesRows).toBeGreaterThan(0);
      expect(r.reportMs).toBeGreaterThan(r.sqliteMs);
      expect(r.sqliteMs).toBeGreaterThan(0);
      expect(Object.keys(r.reports)).toEqual(expect.arrayContaining(['json', 'csv', 'csvTimeseries', 'html', 'prometheus']));
    }
    // The bench's folder (reports included) is gone once it returns.
    expect(existsSync(rows[0].reports.json)).toBe(false);
    const lines = table(rows);
    expect(lines).toHaveLength(1 + sizes.length + 2);
    expect(lines.at(-2)).toMatch(/^ratio 20000\/2000 requests \(x10\.00\): peak RSS x\d+\.\d\d/);
  }, 60_000);
});
