// Pushing to a real Pushgateway (Debian's prometheus-pushgateway, installed by
// the test command), which must accept every family we render, finished or live.
// Debian's build persists to /var/lib/prometheus by default: each gateway here is told not to.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PushError, Pusher, pushText, pushUrl, type PushOutcome } from '../../../monitoring/push.js';
import { renderLive } from '../../../monitoring/live.js';
import { renderPrometheus } from '../../../monitoring/reports/prometheus.js';
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

async function startGateway(port: number): Promise<ChildProcess> {
  const child = spawn('prometheus-pushgateway', [`--web.listen-address=127.0.0.1:${port}`, '--persistence.file='], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    const up = await fetch(`http://127.0.0.1:${port}/-/ready`).then((r) => r.ok).catch(() => false);
    if (up) return child;
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill();
  throw new Error('prometheus-pushgateway did not start; the test command installs it (apt-get install prometheus-pushgateway)');
}

const until = async <T>(what: string, f: () => T | undefined | Promise<T | undefined>, ms = 10_000): Promise<T> => {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

const timers = { setTimeout: (fn: () => void, ms: number) => setTimeout(fn, ms), clearTimeout: (h: unknown) => clearTimeout(h as NodeJS.Timeout) };

let gateway: ChildProcess;
let base: string;
let dir: string;
let result: RunResult;
const metrics = async (url = base) => (await fetch(`${url}/metrics`)).text();

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'aifb-push-'));
  await writeRank(join(dir, 'run'), { rank: 0, ops: { chat: latencies(1, 300) }, metrics: { chat: { ttft: [5, 7, 9], outputTokens: [64, 64, 64] } } });
  result = await collectRun(join(dir, 'run'), { runId: 'run-1', benchmark: 'chat-load', generation: 1, attempt: 1, service: 'vllm' });
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  gateway = await startGateway(port);
});

afterAll(async () => {
  gateway?.kill();
  await rm(dir, { recursive: true, force: true });
});

describe('pushText', () => {
  it('pushes a finished run under job=aifb and the benchmark, labelled by service, run and operation', async () => {
    await pushText(base, 'chat-load', renderPrometheus(result));
    const text = await metrics();
    expect(text).toMatch(/^benchmark_requests_total\{benchmark="chat-load",instance="",job="aifb",operation="all",run="run-1",service="vllm"\} 300$/m);
    expect(text).toMatch(/^benchmark_output_tokens_total\{benchmark="chat-load",instance="",job="aifb",operation="chat",run="run-1",service="vllm"\} 192$/m);
    expect(text).toMatch(/^benchmark_ttft_seconds_count\{benchmark="chat-load",instance="",job="aifb",operation="chat",run="run-1",service="vllm"\} 3$/m);
    expect(pushUrl(base, 'chat-load')).toBe(`${base}/metrics/job/aifb/benchmark/chat-load`);
  });

  it('takes the live series, every family of them', async () => {
    const latency = { counts: Array(18).fill(0).map((_, i) => (i >= 8 ? 10 : 0)), count: 10, sumSeconds: 0.5 };
    const live = renderLive([
      {
        benchmark: 'live-one',
        service: 'vllm',
        run: 'r1',
        operations: { chat: { requests: 10, errors: 1, latency, metrics: { ttft: { kind: 'timing', count: 10, sum: 40, buckets: latency }, outputTokens: { kind: 'count', count: 10, sum: 640 }, recall: { kind: 'value', count: 10, sum: 9.5 } } } },
      },
    ]);
    await pushText(base, 'live-one', live);
    const text = await metrics();
    expect(text).toMatch(/^benchmark_requests_failed\{benchmark="live-one",instance="",job="aifb",operation="all",run="r1",service="vllm"\} 1$/m);
    expect(text).toMatch(/^benchmark_recall_sum\{benchmark="live-one",.*operation="chat".*\} 9\.5$/m);
    expect(text).toMatch(/^benchmark_output_tokens_total\{benchmark="live-one",.*operation="all".*\} 640$/m);
  });

  it('says which gateway could not be reached', async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    await expect(pushText(closed, 'x', 'a 1\n')).rejects.toThrow(PushError);
    await expect(pushText(closed, 'x', 'a 1\n')).rejects.toThrow(/cannot reach the Pushgateway at http:\/\/127\.0\.0\.1:\d+: /);
  });

  it('passes on what the gateway refused', async () => {
    await expect(pushText(base, 'x', 'not a metric line at all {\n')).rejects.toThrow(/answered HTTP 400/);
  });
});

describe('Pusher', () => {
  it('keeps retrying a finished run while the gateway is away, warns, and lands it once the gateway is back', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const changes: PushOutcome[] = [];
    const pusher = new Pusher({ timers, retryMs: 100, maxRetryMs: 200, onChange: (key) => changes.push(pusher.outcome(key)!) });
    pusher.pushFinal('Benchmark/chat-load', 'chat-load', () => ({ url }), renderPrometheus(result));
    const down = await until('the warning', () => pusher.outcome('Benchmark/chat-load'));
    expect(down).toMatchObject({ ok: false, reason: 'PushgatewayUnreachable', message: expect.stringContaining(`cannot reach the Pushgateway at ${url}`) });
    const late = await startGateway(port);
    try {
      await until('the recovery', () => (pusher.outcome('Benchmark/chat-load')?.ok ? true : undefined));
      expect(await metrics(url)).toMatch(/^benchmark_requests_total\{benchmark="chat-load",.*operation="all".*\} 300$/m);
      // Told once going down and once coming back, not at every retry.
      expect(changes.map((c) => c.ok)).toEqual([false, true]);
    } finally {
      late.kill();
      pusher.stopAll();
    }
  });

  it('pushes the live body every interval until stopped, each push replacing the last', async () => {
    const pusher = new Pusher({ timers, onChange: () => {} });
    let n = 0;
    const stop = pusher.startLive('Benchmark/ticker', 'ticker', () => ({ url: base }), 100, () => `aifb_test_ticks ${++n}\n`);
    await until('three pushes', async () => (n >= 3 && /^aifb_test_ticks\{.*benchmark="ticker".*\} [3-9]$/m.test(await metrics()) ? true : undefined));
    stop();
    const stoppedAt = n;
    await new Promise((r) => setTimeout(r, 350));
    expect(n).toBe(stoppedAt);
    expect(pusher.outcome('Benchmark/ticker')).toEqual({ ok: true, url: pushUrl(base, 'ticker') });
  });

  it('ignores the answer of a push whose slot was replaced while it was out', async () => {
    let failFirst!: (e: Error) => void;
    let calls = 0;
    const pusher = new Pusher({
      timers,
      onChange: () => {},
      push: () => (++calls === 1 ? new Promise<void>((_, reject) => (failFirst = reject)) : Promise.resolve()),
    });
    pusher.pushFinal('Benchmark/b', 'b', () => ({ url: 'http://old:9091' }), 'a 1\n');
    pusher.pushFinal('Benchmark/b', 'b', () => ({ url: 'http://new:9091' }), 'a 2\n');
    await until('the new push', () => pusher.outcome('Benchmark/b'));
    failFirst(new PushError('cannot reach the Pushgateway at http://old:9091: late'));
    await new Promise((r) => setTimeout(r, 20));
    expect(pusher.outcome('Benchmark/b')).toEqual({ ok: true, url: pushUrl('http://new:9091', 'b') });
    pusher.stopAll();
  });

  it('reports a target that is not there yet, in its own words', async () => {
    const pusher = new Pusher({ timers, retryMs: 50, onChange: () => {} });
    pusher.pushFinal('Benchmark/b', 'b', () => ({ waiting: 'MonitoringStack mon is Starting; pushing once it is Ready' }), 'a 1\n');
    await until('the outcome', () => pusher.outcome('Benchmark/b'));
    expect(pusher.outcome('Benchmark/b')).toEqual({ ok: false, reason: 'PushgatewayNotReady', message: 'MonitoringStack mon is Starting; pushing once it is Ready' });
    pusher.forget('Benchmark/b');
    expect(pusher.outcome('Benchmark/b')).toBeUndefined();
  });
});
