// The controller-at-scale benchmark end to end on tiny sizes (a real controller
// process from dist/, as the other end-to-end tests): every service turns
// Ready in the files, the idle controller does no reconcile, the list answers.
// No time, CPU or memory figure is judged here.
import { describe, expect, it } from 'vitest';
import { measureAll, table } from '../bench/controller-scale.js';

describe('npm run bench -- controller', () => {
  it('drops endpoint services into a controller, waits for Ready, and measures it at rest', async () => {
    const rows = await measureAll({ sizes: [3, 6], idleSeconds: 2, listRequests: 5, readyTimeoutSeconds: 60 });
    expect(rows.map((r) => r.services)).toEqual([3, 6]);
    for (const r of rows) {
      expect(r.statusS).toBeLessThanOrEqual(r.readyS);
      expect(r.readyS).toBeLessThanOrEqual(r.filesReadyS);
      expect(r.cpuToReadyS).toBeGreaterThan(0);
      expect(r.idleCpuPct).toBeGreaterThanOrEqual(0);
      expect(r.rssMiB).toBeGreaterThan(10);
      expect(r.peakRssMiB).toBeGreaterThanOrEqual(r.rssMiB);
      expect(r.listP99Ms).toBeGreaterThanOrEqual(r.listP50Ms);
      expect(r.listKiB).toBeGreaterThan(0);
      // Nothing changes while idle: no reconcile, no status write (the watch probes come every 30 s).
      expect(r.idle.reconciles).toBe(0);
      expect(r.idle.written).toBe(0);
    }
    const printed = table(rows);
    expect(printed).toHaveLength(4);
    expect(printed[0]).toMatch(/^SERVICES\s+STATUS_S\s+READY_S/);
    expect(printed[3]).toMatch(/^ratio 6\/3 \(x2\.00 = linear\): time to Ready x/);
  }, 120_000);
});
