// Ranks of one run kept in step through the run folder they share (a parallel
// file system on a cluster), as IO500 and elbencho do it: every rank says when
// its setup is done; all start together at one future instant computed from
// those files alike; and, with a stonewall, the first rank to finish its share
// tells the others to stop. Wall-clock time: ranks on different nodes share no
// other clock (NTP keeps cluster nodes within a few ms; the skew is reported).
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';

/** How far ahead of the last rank's readiness everyone starts: enough for every rank to see the last file. */
export const START_LEAD_MS = 1000;
const POLL_MS = 50;

const Ready = z.object({ readyAt: z.number() });
const readyFile = (dir: string, rank: number) => join(dir, `rank-${rank}.ready.json`);
const finishedFile = (dir: string, rank: number) => join(dir, `rank-${rank}.finished`);

export class BarrierTimeout extends Error {}

/**
 * Says this rank is ready, waits until every rank is, then sleeps until the
 * common start: the latest readiness plus START_LEAD_MS. Returns that instant
 * (epoch ms), or undefined when `signal` aborted the wait. Throws
 * BarrierTimeout naming the ranks that never came.
 */
export async function startTogether(dir: string, rank: number, ranks: number, timeoutMs: number, signal: AbortSignal): Promise<number | undefined> {
  await writeFile(readyFile(dir, rank), JSON.stringify({ readyAt: Date.now() }));
  const deadline = Date.now() + timeoutMs;
  const readyAt: (number | undefined)[] = new Array(ranks).fill(undefined);
  for (;;) {
    for (let r = 0; r < ranks; r++) {
      if (readyAt[r] !== undefined) continue;
      try {
        readyAt[r] = Ready.parse(JSON.parse(await readFile(readyFile(dir, r), 'utf8'))).readyAt;
      } catch {
        // Not there yet, or caught half-written: look again.
      }
    }
    if (readyAt.every((t) => t !== undefined)) break;
    if (signal.aborted) return undefined;
    if (Date.now() > deadline) {
      const missing = readyAt.flatMap((t, r) => (t === undefined ? [r] : []));
      throw new BarrierTimeout(
        `rank(s) ${missing.join(', ')} did not finish setup within ${Math.round(timeoutMs / 1000)} s, so the ranks cannot start together; check their logs (a rank that failed setup says why), or that ${dir} is the same shared folder on every node`,
      );
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  const startAt = Math.max(...(readyAt as number[])) + START_LEAD_MS;
  const wait = startAt - Date.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  return startAt;
}

/** The stonewall: this rank finished its share. */
export async function markFinished(dir: string, rank: number): Promise<void> {
  await writeFile(finishedFile(dir, rank), '');
}

/** Whether another rank has finished its share (checked once a second by the engine). */
export function someoneFinished(dir: string, rank: number, ranks: number): boolean {
  for (let r = 0; r < ranks; r++) if (r !== rank && existsSync(finishedFile(dir, r))) return true;
  return false;
}
