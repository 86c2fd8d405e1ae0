// Writes a rank's result files: atomically (temp + rename) so the controller
// never reads half a file, and the time series streamed so memory stays flat.
import { appendFileSync, closeSync, createReadStream, createWriteStream, openSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { once } from 'node:events';
import writeFileAtomic from 'write-file-atomic';
import type { LoadResults } from '../engine/engine.js';
import type { MetricDecl } from '../../api/metrics.js';
import type { RankDone, RankSummary, TimeSeriesRow } from '../../api/runner-contract.js';

export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`);
}

export function buildSummary(r: LoadResults, meta: { rank: number; runId: string; startedAtEpochMs: number; metrics: readonly MetricDecl[] }): RankSummary {
  const iso = (offsetMs: number) => new Date(meta.startedAtEpochMs + offsetMs).toISOString();
  return {
    rank: meta.rank,
    runId: meta.runId,
    startedAt: iso(0),
    measureStartedAt: iso(r.measureStartMs),
    endedAt: iso(r.endMs),
    measuredMs: Math.round(r.measuredMs),
    warmupMs: Math.round(r.warmupMs),
    metrics: [...meta.metrics],
    operations: r.operations,
    totals: r.totals,
    maxSendLagMs: Math.round(r.maxSendLagMs * 1000) / 1000,
    sent: r.sent,
    ...(r.targetRate !== undefined ? { targetRate: r.targetRate } : {}),
    stopReason: r.stopReason,
    ...(r.verdicts ? { verdicts: r.verdicts as Record<string, 'met' | 'missed' | 'open'> } : {}),
  };
}

export function doneRecord(rank: number, exitCode: number, reason?: string): RankDone {
  return { rank, exitCode, ...(reason ? { reason } : {}), finishedAt: new Date().toISOString() };
}

/** Appends one JSON line per second; synchronous so a crash loses at most the current second. */
export class JsonlRows {
  private fd: number | undefined;

  constructor(readonly path: string) {
    this.fd = openSync(path, 'w');
  }

  write(row: TimeSeriesRow): void {
    if (this.fd !== undefined) appendFileSync(this.fd, `${JSON.stringify(row)}\n`);
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

/** Turns the .jsonl rows into the contract's JSON array, line by line, then removes the .jsonl. */
export async function jsonlToJsonArray(src: string, dst: string): Promise<number> {
  const tmp = `${dst}.tmp-${process.pid}`;
  const out = createWriteStream(tmp);
  const write = async (s: string) => {
    if (!out.write(s)) await once(out, 'drain');
  };
  let n = 0;
  await write('[');
  const lines = createInterface({ input: createReadStream(src), crlfDelay: Infinity });
  for await (const line of lines) {
    if (line.trim() === '') continue;
    await write(`${n === 0 ? '\n' : ',\n'}${line}`);
    n++;
  }
  await write(n === 0 ? ']\n' : '\n]\n');
  out.end();
  await once(out, 'finish');
  await rename(tmp, dst);
  await rm(src, { force: true });
  return n;
}
