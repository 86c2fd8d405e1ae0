// Pushing a run's results to a real Pushgateway (Debian's prometheus-pushgateway,
// installed by the test command), which must accept every family we render.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pushRun, PushError, pushUrl } from '../../../monitoring/push.js';
import { collectRun } from '../../../monitoring/results/merge.js';
import type { RunResult } from '../../../monitoring/results/model.js';
import { latencies, writeRank } from './rank-fixtures.js';

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });

let gateway: ChildProcess;
let base: string;
let dir: string;
let result: RunResult;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'aifb-push-'));
  await writeRank(join(dir, 'run'), { rank: 0, ops: { chat: latencies(1, 300) }, metrics: { chat: { ttft: [5, 7, 9], outputTokens: [64, 64, 64] } } });
  result = await collectRun(join(dir, 'run'), { runId: 'run-1', benchmark: 'chat-load', generation: 1, attempt: 1 });
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  gateway = spawn('prometheus-pushgateway', [`--web.listen-address=127.0.0.1:${port}`], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    const up = await fetch(`${base}/-/ready`).then((r) => r.ok).catch(() => false);
    if (up) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('prometheus-pushgateway did not start; the test command installs it (apt-get install prometheus-pushgateway)');
});

afterAll(async () => {
  gateway?.kill();
  await rm(dir, { recursive: true, force: true });
});

describe('pushRun', () => {
  it('pushes the run under job=aifb and the benchmark, with the guide names and the workload metrics', async () => {
    await pushRun(base, result);
    const text = await (await fetch(`${base}/metrics`)).text();
    expect(text).toMatch(/^benchmark_requests_total\{benchmark="chat-load",instance="",job="aifb",operation="all"\} 300$/m);
    expect(text).toMatch(/^benchmark_output_tokens_total\{benchmark="chat-load",instance="",job="aifb",operation="chat"\} 192$/m);
    expect(text).toMatch(/^benchmark_ttft_seconds_count\{benchmark="chat-load",instance="",job="aifb",operation="chat"\} 3$/m);
    expect(pushUrl(base, 'chat-load')).toBe(`${base}/metrics/job/aifb/benchmark/chat-load`);
  });

  it('says which gateway could not be reached and which field to check', async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    await expect(pushRun(closed, result)).rejects.toThrow(PushError);
    await expect(pushRun(closed, result)).rejects.toThrow(/cannot reach the Pushgateway at http:\/\/127\.0\.0\.1:\d+: .*; check spec\.pushgateway/);
  });
});
