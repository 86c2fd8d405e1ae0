// A Service's time limit against its Benchmarks' runs (issue 12), with the real
// reconcilers and effects on a fake executor playing SLURM: each service job
// says when its time limit ends it (endsAt), on the simulated clock.
import { afterEach, describe, expect, it } from 'vitest';
import type { LaunchSpec, Launched } from '../../../controller/executor/types.js';
import { latencies, writeRank } from '../monitoring/rank-fixtures.js';
import { reconcilerWorld, type ReconcilerWorld } from './harness.js';
import { useFullSifCache } from './sif-cache.js';

useFullSifCache();

const MIN = 60_000;

const service = (time: string) => `apiVersion: aifb.io/v1alpha1
kind: Service
metadata:
  name: db
spec:
  type: postgresql
  port: 5432
  readiness: { type: none }
  retries: { max: 0 }
  slurm: { time: "${time}" }
`;

const benchmark = (name: string, duration: string) => `apiVersion: aifb.io/v1alpha1
kind: Benchmark
metadata:
  name: ${name}
spec:
  serviceRef: db
  workload: { type: postgresql }
  load: { workers: 1, duration: ${duration} }
  retries: { max: 0 }
`;

let world: ReconcilerWorld | undefined;
afterEach(() => world?.shutdown());

/**
 * Under SLURM: service attempt N's job ends `left(N)` after it was launched; a
 * runner leaves its rank files and exits at once, unless `hold` keeps it running.
 */
function slurmWorld(left: (attempt: number) => number, hold = new Set<string>()) {
  const w = reconcilerWorld();
  w.executor.name = 'slurm';
  const runners = new Map<string, Launched>();
  w.executor.onLaunch = async (spec: LaunchSpec, launched: Launched) => {
    if (spec.role === 'service') {
      w.executor.script(launched.id, { state: 'running', node: 'n1', endsAt: new Date(w.clock.now() + left(spec.attempt)).toISOString() });
      return;
    }
    runners.set(spec.name, launched);
    if (!hold.has(spec.name)) await finish(spec.name);
  };
  async function finish(name: string): Promise<void> {
    const launched = runners.get(name)!;
    await writeRank(launched.dir, { rank: 0, runId: `${name}-g1-a${launched.ref.attempt}`, ops: { select: latencies(1, 50) } });
    w.executor.script(launched.id, { state: 'exited', exitCode: 0 });
  }
  return { w, finish };
}

const events = (w: ReconcilerWorld, key: string) => (w.meta.get(key)?.events ?? []).map((e) => e.reason);

describe('a Service whose job ends before a Benchmark’s run would', () => {
  it('is renewed once for the benchmarks that share it, which then run on the new job without an interruption', async () => {
    // Attempt 1's job has 1m left; the runs need 30s + the 2m margin. Attempt 2's has 10m.
    const { w } = slurmWorld((attempt) => (attempt === 1 ? MIN : 10 * MIN));
    world = w;
    await w.apply(service('00:10:00'), 'db.yaml');
    await w.until('Service/db', 'Ready');
    expect(w.status('Service/db')).toMatchObject({ attempts: 1, endsAt: new Date(MIN).toISOString() });
    expect(w.status('Service/db')!.conditions!.find((c) => c.type === 'Ready')!.message).toMatch(/its job ends at 1970-01-01T00:01:00\.000Z/);

    await w.apply(`${benchmark('a', '30s')}---\n${benchmark('b', '30s')}`, 'bench.yaml');
    await w.until('Benchmark/a', 'Succeeded', 30_000);
    await w.until('Benchmark/b', 'Succeeded', 30_000);

    const services = w.executor.log.filter((l) => l.includes('service.db'));
    expect(services).toEqual(['launch service.db.g1.a1.service', 'stop service.db.g1.a1.service', 'forget service.db.g1.a1.service', 'launch service.db.g1.a2.service']);
    // Both runs started on the new job, none before it.
    const renewedAt = w.executor.log.indexOf('launch service.db.g1.a2.service');
    for (const b of ['a', 'b']) expect(w.executor.log.indexOf(`launch benchmark.${b}.g1.a1.runner`)).toBeGreaterThan(renewedAt);
    expect(w.status('Service/db')).toMatchObject({ phase: 'Ready', attempts: 2 });
    for (const key of ['Benchmark/a', 'Benchmark/b']) {
      const st = w.status(key)!;
      expect(st).toMatchObject({ phase: 'Succeeded', attempts: 1 });
      expect(st.renewal).toBeUndefined();
      expect(events(w, key)).toContain('RenewingService');
      expect(events(w, key)).not.toContain('Interrupted');
    }
    // retries.max 0 on the Service: the renewal used up none, or it would be Failed.
    expect(events(w, 'Service/db').filter((r) => r === 'Renewing')).toHaveLength(1);
    const renewing = w.meta.get('Service/db')!.events.find((e) => e.reason === 'Renewing')!;
    expect(renewing.message).toMatch(/^benchmarks? a(, b)?: the run needs 2m30s of service db \(duration 30s \+ margin 2m\), and its job \(attempt 1\) ends in (1m|\d+s); starting the service again as attempt 2, a new job$/);
  });

  it('puts the renewal off while another benchmark runs against the job, then renews it', async () => {
    // Attempt 1 has 5m left: enough for "short" (2m30s), not for "long" (4m + 2m margin).
    const { w, finish } = slurmWorld((attempt) => (attempt === 1 ? 5 * MIN : 10 * MIN), new Set(['short']));
    world = w;
    await w.apply(service('00:10:00'), 'db.yaml');
    await w.until('Service/db', 'Ready');
    await w.apply(benchmark('short', '30s'), 'short.yaml');
    await w.until('Benchmark/short', 'Running');
    await w.apply(benchmark('long', '4m'), 'long.yaml');
    await w.advance(3000);
    expect(w.status('Benchmark/long')).toMatchObject({ phase: 'Waiting', renewal: { attempt: 1 } });
    expect(w.status('Benchmark/long')!.conditions!.find((c) => c.type === 'ServiceReady')).toMatchObject({ status: 'False', reason: 'ServiceRenewing' });
    expect(w.status('Service/db')).toMatchObject({ phase: 'Ready', attempts: 1 });
    expect(events(w, 'Service/db')).toContain('RenewalDeferred');
    expect(w.executor.log).not.toContain('stop service.db.g1.a1.service');

    await finish('short');
    await w.until('Benchmark/short', 'Succeeded', 10_000);
    await w.until('Benchmark/long', 'Succeeded', 10_000);
    expect(w.status('Service/db')).toMatchObject({ phase: 'Ready', attempts: 2 });
    const at = (line: string) => w.executor.log.indexOf(line);
    expect(at('launch benchmark.long.g1.a1.runner')).toBeGreaterThan(at('launch service.db.g1.a2.service'));
    expect(events(w, 'Benchmark/short')).not.toContain('Interrupted');
  });

  it('fails a benchmark at once, starting nothing, when the Service’s whole spec.slurm.time is shorter than the run', async () => {
    const { w } = slurmWorld(() => 2 * MIN);
    world = w;
    await w.apply(service('00:02:00'), 'db.yaml');
    await w.apply(benchmark('big', '1m'), 'big.yaml');
    const st = await w.until('Benchmark/big', 'Failed', 10_000);
    expect(st.message).toBe(
      'ServiceTimeTooShort: the run needs 3m of service db (duration 1m + margin 2m), more than its whole time limit, spec.slurm.time "00:02:00" (2m); ' +
        `set the Service's spec.slurm.time to at least "00:03:00" plus the time the service takes to become Ready, or shorten the run`,
    );
    expect(st.conditions!.find((c) => c.type === 'Complete')).toMatchObject({ status: 'False', reason: 'ServiceTimeTooShort' });
    expect(st.attempts).toBe(0);
    await w.advance(5000);
    expect(w.executor.log.filter((l) => l.includes('runner'))).toEqual([]);
    expect(w.executor.log.filter((l) => l.startsWith('launch service'))).toEqual(['launch service.db.g1.a1.service']);
  });

  it('fails, naming the limit that would do, when even the renewed job is short: the service’s start-up eats the run’s time', async () => {
    // A 3m limit whose jobs are Ready with 2m left: a 30s run (2m30s with its margin) never fits.
    const { w } = slurmWorld(() => 2 * MIN);
    world = w;
    await w.apply(service('00:03:00'), 'db.yaml');
    await w.until('Service/db', 'Ready');
    await w.apply(benchmark('a', '30s'), 'a.yaml');
    const st = await w.until('Benchmark/a', 'Failed', 10_000);
    expect(st.message).toMatch(/^ServiceTimeTooShort: the run needs 2m30s of service db .*even a fresh job of it \(attempt 2\) has only 2m left once Ready.*at least "00:04:00"/);
    expect(w.executor.log.filter((l) => l.startsWith('launch service'))).toEqual(['launch service.db.g1.a1.service', 'launch service.db.g1.a2.service']);
    expect(w.executor.log.filter((l) => l.includes('runner'))).toEqual([]);
  });

  it('checks nothing where no job ends (the local executor): the run starts at once', async () => {
    const { w } = slurmWorld(() => MIN);
    world = w;
    w.executor.name = 'local';
    w.executor.onLaunch = async (spec, launched) => {
      if (spec.role === 'runner') {
        await writeRank(launched.dir, { rank: 0, runId: `${spec.name}-g1-a1`, ops: { select: latencies(1, 50) } });
        w.executor.script(launched.id, { state: 'exited', exitCode: 0 });
      }
    };
    await w.apply(`${service('00:01:00')}---\n${benchmark('a', '5m')}`);
    await w.until('Benchmark/a', 'Succeeded', 10_000);
    expect(w.status('Service/db')!.endsAt).toBeUndefined();
    expect(w.executor.log.filter((l) => l.startsWith('launch service'))).toHaveLength(1);
  });
});
