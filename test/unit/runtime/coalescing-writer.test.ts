// Coalesced state writes: the last content wins, and a write that cannot land
// (its folder removed under the controller) is reported, never thrown from a timer.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CoalescingWriter } from '../../../controller/runtime/coalescing-writer.js';

describe('CoalescingWriter', () => {
  it('writes each path once after the delay, with the last content scheduled', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aifb-coalesce-'));
    const w = new CoalescingWriter(20);
    for (let i = 1; i <= 3; i++) w.schedule(join(dir, 'a.json'), () => String(i));
    await new Promise((r) => setTimeout(r, 80));
    expect(readFileSync(join(dir, 'a.json'), 'utf8')).toBe('3');
  });

  it('reports a write whose folder is gone and still writes the others', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aifb-coalesce-'));
    const gone = mkdtempSync(join(tmpdir(), 'aifb-coalesce-gone-'));
    const failed: string[] = [];
    const w = new CoalescingWriter(20, (path) => failed.push(path));
    w.schedule(join(gone, 'x.json'), () => 'x');
    w.schedule(join(dir, 'y.json'), () => 'y');
    rmSync(gone, { recursive: true });
    await new Promise((r) => setTimeout(r, 80));
    expect(failed).toEqual([join(gone, 'x.json')]);
    expect(readFileSync(join(dir, 'y.json'), 'utf8')).toBe('y');
  });
});
