// The Benchmark reconciler with its real effects: runner launches on a fake
// executor, rank files written as a runner would, results merged into status.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { latencies, writeRank } from '../monitoring/rank-fixtures.js';
import { Pusher, PushError } from '../../../monitoring/push.js';
import { reconcilerWorld, type ReconcilerWorld } from './harness.js';

const benchmark = (extra = '') => `apiVersion: aifb.io/v1alpha1
kind: Benchmark
metadata:
  name: load
spec:
  workload: { type: file-storage }
  load: { duration: 5s }
  retries: { max: 2, backoff: 5s }
${extra}`;

let world: ReconcilerWorld | undefined;
afterEach(() => world?.shutdown());

/** Every runner launch leaves one rank's files, as the runner process would, then exits with code. */
function runnersExit(w: ReconcilerWorld, exitCode: (attempt: number) => number) {
  w.executor.onLaunch = async (spec, launched) => {
    const code = exitCode(spec.attempt);
    if (code === 0) {
      await writeRank(spec.dir, { rank: 0, runId: `load-g1-a${spec.attempt}`, ops: { write: latencies(1, 200) }, bytes: { write: 4096 } });
    }
    w.executor.script(launched.id, { state: 'exited', exitCode: code });
  };
}

describe('BenchmarkReconciler', () => {
  it('launches the runner with its spec, collects its results into status and reports, and succeeds', async () => {
    world = reconcilerWorld();
    runnersExit(world, () => 0);
    await world.apply(benchmark());
    const st = await world.until('Benchmark/load', 'Succeeded');
    expect(st).toMatchObject({ phase: 'Succeeded', attempts: 1, runId: 'load-g1-a1' });
    expect(st.results).toMatchObject({ requests: 200, errors: 0, metrics: { bytes: { unit: 'bytes', sum: 4096 } } });
    expect(existsSync(st.reports!.json)).toBe(true);
    const launch = [...world.executor.log];
    expect(launch).toEqual(['launch benchmark.load.g1.a1.runner', 'forget benchmark.load.g1.a1.runner']);
    // The spec the runner reads: durations as text, decoded by the runner with the same schema.
    const spec = JSON.parse(readFileSync(join(world.paths.runsDir, 'load', 'load-g1-a1', 'spec.json'), 'utf8'));
    expect(spec.load).toMatchObject({ duration: '5000ms', warmup: '0ms' });
  });

  it('succeeds with a MetricsPushed=False warning when spec.pushgateway cannot be reached, and keeps trying: the results are on disk', async () => {
    world = reconcilerWorld();
    const attempts: string[] = [];
    world.deps.pusher = new Pusher({
      timers: world.clock,
      onChange: (key) => world!.deps.enqueue(key),
      push: async (base) => {
        attempts.push(base);
        throw new PushError(`cannot reach the Pushgateway at ${base}: connect ECONNREFUSED`);
      },
    });
    runnersExit(world, () => 0);
    await world.apply(benchmark('  pushgateway: http://127.0.0.1:1'));
    await world.until('Benchmark/load', 'Succeeded');
    await world.advance(250);
    const condition = world.status('Benchmark/load')!.conditions!.find((c) => c.type === 'MetricsPushed');
    expect(condition).toMatchObject({ status: 'False', reason: 'PushgatewayUnreachable', message: 'cannot reach the Pushgateway at http://127.0.0.1:1: connect ECONNREFUSED; retrying, the run itself is not affected' });
    expect(world.status('Benchmark/load')!.phase).toBe('Succeeded');
    const before = attempts.length;
    await world.advance(10_000);
    expect(attempts.length).toBeGreaterThan(before);
  });

  it('a benchmark deleted and created again keeps its earlier run: the new one gets its own id, folder and row', async () => {
    world = reconcilerWorld();
    runnersExit(world, () => 0);
    await world.apply(benchmark());
    expect(await world.until('Benchmark/load', 'Succeeded')).toMatchObject({ runId: 'load-g1-a1' });
    await world.remove('Benchmark/load');
    await world.advance(1000);
    await world.apply(benchmark());
    await world.advance(500);
    const again = await world.until('Benchmark/load', 'Succeeded');
    expect(again.runId).toBe('load-g1-a1-2');
    expect(existsSync(join(world.paths.runsDir, 'load', 'load-g1-a1', 'spec.json'))).toBe(true);
    expect(world.deps.results.listRuns('load').map((r) => r.runId).sort()).toEqual(['load-g1-a1', 'load-g1-a1-2']);
  });

  it('open loop: a run whose generator fell short succeeds with GeneratorKeptUp=False saying why', async () => {
    world = reconcilerWorld();
    world.executor.onLaunch = async (spec, launched) => {
      // 200 sent of the 40 req/s x 10 s asked: the rest dropped at the concurrency cap.
      await writeRank(spec.dir, { rank: 0, runId: `load-g1-a${spec.attempt}`, ops: { write: latencies(1, 200) }, targetRate: 40, sent: 200, dropped: 200 });
      world!.executor.script(launched.id, { state: 'exited', exitCode: 0 });
    };
    await world.apply(benchmark().replace('load: { duration: 5s }', 'load: { mode: open, rate: 40, duration: 5s }'));
    const st = await world.until('Benchmark/load', 'Succeeded');
    const condition = st.conditions!.find((c) => c.type === 'GeneratorKeptUp');
    expect(condition).toMatchObject({ status: 'False', reason: 'GeneratorLimited' });
    expect(condition!.message).toMatch(/^the load generator did not keep up: sent 20 of 40 req\/s \(50\.0%\): 200 arrivals found load\.concurrency requests in flight/);
    expect(st.results?.generator).toMatchObject({ targetRate: 40, achievedRate: 20, keptUp: false });
  });

  it('stops a failed attempt before launching the next, then succeeds', async () => {
    world = reconcilerWorld();
    runnersExit(world, (attempt) => (attempt === 1 ? 3 : 0));
    await world.apply(benchmark());
    await world.advance(2000);
    expect(world.status('Benchmark/load')).toMatchObject({ phase: 'Retrying', attempts: 1 });
    await world.until('Benchmark/load', 'Succeeded');
    expect(world.executor.log).toEqual([
      'launch benchmark.load.g1.a1.runner',
      'stop benchmark.load.g1.a1.runner',
      'forget benchmark.load.g1.a1.runner',
      'launch benchmark.load.g1.a2.runner',
      'forget benchmark.load.g1.a2.runner',
    ]);
    expect(world.status('Benchmark/load')).toMatchObject({ phase: 'Succeeded', attempts: 2 });
  });

  it('is Invalid, naming the types that fit, when its serviceRef is a Service its workload cannot talk to', async () => {
    world = reconcilerWorld();
    await world.apply(`apiVersion: aifb.io/v1alpha1
kind: Service
metadata:
  name: db
spec:
  type: postgresql
  endpoint: { host: 127.0.0.1, port: 5432 }
---
apiVersion: aifb.io/v1alpha1
kind: Benchmark
metadata:
  name: chat
spec:
  serviceRef: db
  workload: { type: llm }
  load: { duration: 5s }
`);
    const st = world.status('Benchmark/chat')!;
    expect(st.phase).toBe('Invalid');
    expect(st.message).toBe(
      'spec.serviceRef: a llm workload cannot talk to a Service of type postgresql; types that fit: vllm, ollama, triton, http; point serviceRef at a Service of one of those types',
    );
    expect(world.executor.log).toEqual([]);
  });

  it('stops its runner when deleted mid-run', async () => {
    world = reconcilerWorld();
    await world.apply(benchmark());
    await world.advance(2000);
    expect(world.status('Benchmark/load')?.phase).toBe('Running');
    await world.remove('Benchmark/load');
    await world.advance(1000);
    expect(world.executor.log).toEqual(['launch benchmark.load.g1.a1.runner', 'stop benchmark.load.g1.a1.runner', 'forget benchmark.load.g1.a1.runner']);
  });
});
