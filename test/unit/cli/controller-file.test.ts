// <state>/controller.json tells aifbctl, quickstart and the benches where the
// controller's API is. They read it while a starting controller writes it, so
// it is replaced whole (a temp file renamed over it), never truncated and
// rewritten in place, where a reader between the two saw an empty file.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startController, type RunningController } from '../../../controller/cli/controller-run.js';
import { silentLogger } from '../../../controller/runtime/logger.js';

describe('controller.json', () => {
  let running: RunningController | undefined;
  afterEach(async () => {
    await running?.stop();
    running = undefined;
  });

  it("replaces a crashed controller's file whole, leaves no temp file, and is removed at stop", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aifb-controller-file-'));
    const state = join(dir, '.aifb');
    mkdirSync(state, { recursive: true });
    const file = join(state, 'controller.json');
    writeFileSync(file, JSON.stringify({ url: 'http://127.0.0.1:1', pid: 1 }));
    const staleInode = statSync(file).ino;

    running = await startController({ resources: join(dir, 'resources'), state, executor: 'local', host: '127.0.0.1', port: 0, resync: '30s', log: silentLogger });
    const written = JSON.parse(readFileSync(file, 'utf8')) as { url: string; pid: number };
    expect(written).toMatchObject({ url: running.url, pid: process.pid });
    // Written in place, the stale file would keep its inode (and be empty for a moment).
    expect(statSync(file).ino).not.toBe(staleInode);
    expect(readdirSync(state).filter((f) => f.startsWith('controller.json.'))).toEqual([]);

    await running.stop();
    running = undefined;
    expect(existsSync(file)).toBe(false);
  });
});
