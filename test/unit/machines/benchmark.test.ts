import { describe, expect, it } from 'vitest';
import { createActor, fromPromise, SimulatedClock } from 'xstate';
import type { ResultsSummary } from '../../../api/schemas.js';
import {
  benchmarkMachine,
  benchmarkPhase,
  benchmarkStateName,
  MACHINE_VERSION,
  type BenchmarkInput,
  type InterruptInput,
  type CollectedResults,
  type LaunchedRunner,
  type LaunchRunnerInput,
  type RunnerRef,
  type RunnerWatchEvent,
} from '../../../machines/benchmark.js';
import { ActorFailure, type StopInput } from '../../../machines/lifecycle.js';
import { persistable, restore } from '../../../machines/persist.js';
import { fakeWatcher, recorder, settle } from './harness.js';

const results: ResultsSummary = {
  requests: 1000, errors: 2, errorRate: 0.002, durationS: 10, throughput: 100,
  p50Ms: 5, p90Ms: 9, p95Ms: 11, p99Ms: 20, p999Ms: 40, maxMs: 55,
};

const input = (over: Partial<BenchmarkInput> = {}): BenchmarkInput => ({
  name: 'vllm-load',
  generation: 3,
  needsService: false,
  retries: { max: 2, backoff: 1_000, maxBackoff: 60_000 },
  ...over,
});

/** Fakes for every effect; `launch`/`collect` answers can be overridden per test. */
function world(opts: {
  launch?: (input: LaunchRunnerInput, call: number) => LaunchedRunner | Promise<LaunchedRunner>;
  collect?: (input: RunnerRef, call: number) => CollectedResults | Promise<CollectedResults>;
} = {}) {
  const launch = recorder<LaunchRunnerInput, LaunchedRunner>((i, call) => {
    log.push(`launch ${i.attempt}`);
    return (opts.launch ?? ((x) => ({ runId: `r${x.attempt}`, startedAt: 100 * x.attempt })))(i, call);
  });
  const collect = recorder<RunnerRef, CollectedResults>(opts.collect ?? (() => ({ results, reports: { json: '/runs/r1/report.json' }, completedAt: 5_000 })));
  const log: string[] = [];
  const stop = recorder<StopInput, void>((i) => {
    log.push(`stop ${i.attempt}`);
  });
  const interrupt = recorder<InterruptInput, void>((i) => {
    log.push(`interrupt ${i.runId}`);
  });
  const watcher = fakeWatcher<RunnerRef, RunnerWatchEvent>();
  const machine = benchmarkMachine.provide({
    actors: {
      launchRunner: fromPromise(launch.run),
      watchRunner: watcher.logic,
      collectResults: fromPromise(collect.run),
      stop: fromPromise(stop.run),
      interruptRunner: fromPromise(interrupt.run),
    },
  });
  return { machine, launch, collect, stop, interrupt, watcher, log };
}

describe('benchmarkMachine', () => {
  it('launches, watches, collects and succeeds', async () => {
    const w = world();
    const actor = createActor(w.machine, { input: input(), clock: new SimulatedClock() }).start();
    expect(benchmarkPhase(actor.getSnapshot())).toBe('Starting');
    expect(actor.getSnapshot().context.attempt).toBe(1);
    await settle();

    expect(w.launch.calls).toEqual([{ name: 'vllm-load', generation: 3, attempt: 1 }]);
    expect(benchmarkStateName(actor.getSnapshot())).toBe('running');
    expect(actor.getSnapshot().context).toMatchObject({ runId: 'r1', startedAt: 100 });
    expect(w.watcher.inputs).toEqual([{ runId: 'r1', attempt: 1 }]);

    w.watcher.send({ type: 'PROGRESS', progress: { elapsedMs: 2_000, requests: 200, errors: 0, rps: 100, p99Ms: 18 } });
    expect(actor.getSnapshot().context.progress).toEqual({ elapsedMs: 2_000, requests: 200, errors: 0, rps: 100, p99Ms: 18 });

    w.watcher.send({ type: 'RUNNER_EXITED', exitCode: 0, retryable: true });
    expect(benchmarkPhase(actor.getSnapshot())).toBe('Collecting');
    expect(w.watcher.stopped).toBe(1);
    await settle();

    const snap = actor.getSnapshot();
    expect(benchmarkPhase(snap)).toBe('Succeeded');
    expect(w.collect.calls).toEqual([{ runId: 'r1', attempt: 1 }]);
    expect(snap.context).toMatchObject({ results, reports: { json: '/runs/r1/report.json' }, completedAt: 5_000, attempt: 1 });
    expect(snap.context.lastError).toBeUndefined();
  });

  it('waits for its service and launches only once the service is ready', async () => {
    const w = world();
    const actor = createActor(w.machine, { input: input({ needsService: true }), clock: new SimulatedClock() }).start();
    await settle();
    expect(benchmarkPhase(actor.getSnapshot())).toBe('Waiting');
    expect(actor.getSnapshot().context.attempt).toBe(0);
    expect(w.launch.calls).toHaveLength(0);

    actor.send({ type: 'SERVICE_READY' });
    await settle();
    expect(benchmarkPhase(actor.getSnapshot())).toBe('Running');
    expect(w.launch.calls).toEqual([{ name: 'vllm-load', generation: 3, attempt: 1 }]);
  });

  it('interrupts the run when its service goes away, waits for it, and runs again without using up a retry', async () => {
    const w = world();
    const actor = createActor(w.machine, { input: input({ needsService: true, retries: { max: 1, backoff: 1_000, maxBackoff: 60_000 } }), clock: new SimulatedClock() }).start();
    actor.send({ type: 'SERVICE_READY', attempt: 1 });
    await settle();
    expect(actor.getSnapshot().context).toMatchObject({ attempt: 1, serviceAttempt: 1 });
    actor.send({ type: 'SERVICE_LOST', message: 'service vllm left Ready (Starting)' });
    await settle();
    expect(benchmarkPhase(actor.getSnapshot())).toBe('Waiting');
    expect(w.interrupt.calls).toEqual([{ runId: 'r1', attempt: 1, message: 'run r1 (attempt 1) was interrupted: service vllm left Ready (Starting)' }]);
    expect(actor.getSnapshot().context.lastError).toMatchObject({ reason: 'ServiceInterrupted' });
    expect(w.collect.calls).toHaveLength(0);

    actor.send({ type: 'SERVICE_READY', attempt: 2 });
    await settle();
    expect(actor.getSnapshot().context).toMatchObject({ attempt: 2, runId: 'r2', serviceAttempt: 2 });
    // retries.max is 1, and the interrupted attempt did not use it up: a failure now is retried.
    w.watcher.send({ type: 'RUNNER_EXITED', exitCode: 3, retryable: true });
    await settle();
    expect(benchmarkPhase(actor.getSnapshot())).toBe('Retrying');
    expect(w.log).toEqual(['launch 1', 'interrupt r1', 'launch 2', 'stop 2']);
  });

  it('waits for a renewed service when its job is short of time, then runs on the new attempt: nothing interrupted, no retry used', async () => {
    const w = world();
    const actor = createActor(w.machine, { input: input({ needsService: true, retries: { max: 0, backoff: 1_000, maxBackoff: 60_000 } }), clock: new SimulatedClock() }).start();
    actor.send({ type: 'SERVICE_TIME_SHORT', attempt: 1, message: 'the run needs 2m20s, and its job (attempt 1) ends in 50s' });
    await settle();
    expect(benchmarkStateName(actor.getSnapshot())).toBe('renewingService');
    expect(benchmarkPhase(actor.getSnapshot())).toBe('Waiting');
    expect(actor.getSnapshot().context).toMatchObject({ attempt: 0, renewal: { attempt: 1, message: 'the run needs 2m20s, and its job (attempt 1) ends in 50s' } });
    // Asked again while the renewal is put off: still waiting, with the newer numbers.
    actor.send({ type: 'SERVICE_TIME_SHORT', attempt: 1, message: 'the run needs 2m20s, and its job (attempt 1) ends in 40s' });
    expect(actor.getSnapshot().context.renewal?.message).toMatch(/ends in 40s/);
    expect(w.launch.calls).toHaveLength(0);

    actor.send({ type: 'SERVICE_READY', attempt: 2 });
    await settle();
    const snap = actor.getSnapshot();
    expect(benchmarkStateName(snap)).toBe('running');
    expect(snap.context).toMatchObject({ attempt: 1, serviceAttempt: 2 });
    expect(snap.context.renewal).toBeUndefined();
    expect(w.interrupt.calls).toHaveLength(0);
    expect(w.log).toEqual(['launch 1']);
  });

  it('fails at once, without launching or retrying, when no job of its service lasts the run', async () => {
    for (const from of ['waitingForService', 'renewingService']) {
      const w = world();
      const clock = new SimulatedClock();
      const actor = createActor(w.machine, { input: input({ needsService: true }), clock }).start();
      if (from === 'renewingService') actor.send({ type: 'SERVICE_TIME_SHORT', attempt: 1, message: 'its job ends in 50s' });
      expect(benchmarkStateName(actor.getSnapshot())).toBe(from);
      actor.send({ type: 'SERVICE_TIME_TOO_SHORT', message: 'the run needs 3m of service vllm, more than its whole time limit, spec.slurm.time "00:02:00"' });
      await settle();
      clock.increment(1_000_000);
      await settle();
      expect(benchmarkPhase(actor.getSnapshot())).toBe('Failed');
      expect(actor.getSnapshot().context.lastError).toEqual({ reason: 'ServiceTimeTooShort', message: 'the run needs 3m of service vllm, more than its whole time limit, spec.slurm.time "00:02:00"' });
      expect(w.launch.calls).toHaveLength(0);
    }
  });

  it('waits for its service again before a retry, so a retry also starts on a Ready service that lasts it', async () => {
    const w = world();
    const clock = new SimulatedClock();
    const actor = createActor(w.machine, { input: input({ needsService: true }), clock }).start();
    actor.send({ type: 'SERVICE_READY', attempt: 1 });
    await settle();
    w.watcher.send({ type: 'RUNNER_EXITED', exitCode: 3, retryable: true });
    await settle();
    clock.increment(1_000);
    await settle();
    expect(benchmarkStateName(actor.getSnapshot())).toBe('waitingForService');
    expect(w.launch.calls).toHaveLength(1);
    actor.send({ type: 'SERVICE_TIME_SHORT', attempt: 1, message: 'its job ends in 10s' });
    actor.send({ type: 'SERVICE_READY', attempt: 2 });
    await settle();
    expect(actor.getSnapshot().context).toMatchObject({ attempt: 2, serviceAttempt: 2, runId: 'r2' });
    expect(w.log).toEqual(['launch 1', 'stop 1', 'launch 2']);
  });

  it('fails without launching when its service fails', async () => {
    const w = world();
    const actor = createActor(w.machine, { input: input({ needsService: true }), clock: new SimulatedClock() }).start();
    actor.send({ type: 'SERVICE_FAILED', reason: 'ReadinessTimeout', message: 'port 8000 not open after 600s' });
    await settle();
    expect(benchmarkPhase(actor.getSnapshot())).toBe('Failed');
    expect(actor.getSnapshot().context.lastError).toEqual({
      reason: 'ServiceFailed',
      message: 'service failed (ReadinessTimeout): port 8000 not open after 600s',
    });
    expect(w.launch.calls).toHaveLength(0);
  });

  it('retries a retryable runner failure after the backoff and then succeeds', async () => {
    const w = world();
    const clock = new SimulatedClock();
    const actor = createActor(w.machine, { input: input(), clock }).start();
    await settle();
    w.watcher.send({ type: 'RUNNER_EXITED', exitCode: 3, reason: 'connection refused', retryable: true });
    await settle();

    expect(benchmarkPhase(actor.getSnapshot())).toBe('Retrying');
    expect(actor.getSnapshot().context.lastError).toEqual({
      reason: 'RunnerFailed',
      message: 'runner attempt 1 exited with code 3: connection refused',
    });

    clock.increment(999);
    await settle();
    expect(benchmarkPhase(actor.getSnapshot())).toBe('Retrying');
    expect(w.launch.calls).toHaveLength(1);

    clock.increment(1);
    await settle();
    expect(w.launch.calls.map((c) => c.attempt)).toEqual([1, 2]);
    // The failed attempt's runner was stopped before the next one was launched.
    expect(w.log).toEqual(['launch 1', 'stop 1', 'launch 2']);
    expect(actor.getSnapshot().context).toMatchObject({ attempt: 2, runId: 'r2', startedAt: 200 });
    expect(w.watcher.inputs.at(-1)).toEqual({ runId: 'r2', attempt: 2 });

    w.watcher.send({ type: 'RUNNER_EXITED', exitCode: 0, retryable: true });
    await settle();
    expect(benchmarkPhase(actor.getSnapshot())).toBe('Succeeded');
    expect(actor.getSnapshot().context.lastError).toBeUndefined();
  });

  it('doubles the backoff each attempt and fails with lastError once retries are used up', async () => {
    const w = world();
    const clock = new SimulatedClock();
    const actor = createActor(w.machine, { input: input(), clock }).start(); // max 2 retries: 3 attempts
    await settle();

    w.watcher.send({ type: 'RUNNER_EXITED', exitCode: 1, retryable: true });
    await settle();
    clock.increment(1_000);
    await settle();
    expect(actor.getSnapshot().context.attempt).toBe(2);

    w.watcher.send({ type: 'RUNNER_EXITED', exitCode: 1, retryable: true });
    await settle();
    clock.increment(1_999);
    await settle();
    expect(benchmarkPhase(actor.getSnapshot())).toBe('Retrying');
    clock.increment(1);
    await settle();
    expect(actor.getSnapshot().context.attempt).toBe(3);

    w.watcher.send({ type: 'RUNNER_EXITED', exitCode: 1, retryable: true });
    await settle();
    const snap = actor.getSnapshot();
    expect(benchmarkPhase(snap)).toBe('Failed');
    expect(snap.context.lastError).toEqual({ reason: 'RunnerFailed', message: 'runner attempt 3 exited with code 1' });
    expect(w.log).toEqual(['launch 1', 'stop 1', 'launch 2', 'stop 2', 'launch 3', 'stop 3']);
    clock.increment(1_000_000);
    await settle();
    expect(w.launch.calls).toHaveLength(3);
  });

  it('fails at once on a non-retryable runner exit', async () => {
    const w = world();
    const clock = new SimulatedClock();
    const actor = createActor(w.machine, { input: input(), clock }).start();
    await settle();
    w.watcher.send({ type: 'RUNNER_EXITED', exitCode: 2, reason: 'workload.root does not exist', retryable: false });
    clock.increment(1_000_000);
    await settle();

    const snap = actor.getSnapshot();
    expect(benchmarkPhase(snap)).toBe('Failed');
    expect(snap.context.lastError?.reason).toBe('RunnerConfigError');
    expect(snap.context.lastError?.message).toMatch(/code 2: workload.root does not exist.*fix the benchmark spec/);
    expect(w.launch.calls).toHaveLength(1);
  });

  it('retries a failed launch as LaunchFailed, but not an ActorFailure marked non-retryable', async () => {
    const flaky = world({
      launch: (i) => {
        if (i.attempt === 1) throw new Error('sbatch: Socket timed out');
        return { runId: 'r2', startedAt: 7 };
      },
    });
    const clock = new SimulatedClock();
    const actor = createActor(flaky.machine, { input: input(), clock }).start();
    await settle();
    expect(benchmarkPhase(actor.getSnapshot())).toBe('Retrying');
    expect(actor.getSnapshot().context.lastError).toEqual({ reason: 'LaunchFailed', message: 'sbatch: Socket timed out' });
    clock.increment(1_000);
    await settle();
    expect(benchmarkPhase(actor.getSnapshot())).toBe('Running');

    const invalid = world({
      launch: () => {
        throw new ActorFailure('partition "gpuu" does not exist: set runner.slurm.partition to one sinfo lists', 'InvalidPartition', false);
      },
    });
    const doomed = createActor(invalid.machine, { input: input(), clock: new SimulatedClock() }).start();
    await settle();
    expect(benchmarkPhase(doomed.getSnapshot())).toBe('Failed');
    expect(doomed.getSnapshot().context.lastError?.reason).toBe('InvalidPartition');
  });

  it('retries unreadable results as ResultsUnreadable', async () => {
    const w = world({
      collect: (_i, call) => {
        if (call === 1) throw new Error('rank-0.summary.json: unexpected end of JSON');
        return { results, reports: {}, completedAt: 9 };
      },
    });
    const clock = new SimulatedClock();
    const actor = createActor(w.machine, { input: input(), clock }).start();
    await settle();
    w.watcher.send({ type: 'RUNNER_EXITED', exitCode: 0, retryable: true });
    await settle();
    expect(benchmarkPhase(actor.getSnapshot())).toBe('Retrying');
    expect(actor.getSnapshot().context.lastError?.reason).toBe('ResultsUnreadable');
  });

  it('stops the runner on DELETE while running and ends stopped', async () => {
    const w = world();
    const actor = createActor(w.machine, { input: input(), clock: new SimulatedClock() }).start();
    await settle();
    actor.send({ type: 'DELETE' });
    expect(benchmarkPhase(actor.getSnapshot())).toBe('Terminating');
    expect(w.watcher.stopped).toBe(1);
    await settle();

    expect(w.stop.calls).toEqual([{ attempt: 1 }]);
    expect(benchmarkStateName(actor.getSnapshot())).toBe('stopped');
    expect(actor.getSnapshot().status).toBe('done');
  });

  it('ends stopped on DELETE after it succeeded, and while waiting (nothing launched)', async () => {
    const w = world();
    const done = createActor(w.machine, { input: input(), clock: new SimulatedClock() }).start();
    await settle();
    w.watcher.send({ type: 'RUNNER_EXITED', exitCode: 0, retryable: true });
    await settle();
    done.send({ type: 'DELETE' });
    await settle();
    expect(done.getSnapshot().status).toBe('done');

    const waiting = createActor(w.machine, { input: input({ needsService: true }), clock: new SimulatedClock() }).start();
    waiting.send({ type: 'DELETE' });
    await settle();
    expect(waiting.getSnapshot().status).toBe('done');
    expect(w.stop.calls).toEqual([{ attempt: 1 }, { attempt: 0 }]);
  });

  it('restores a persisted mid-run snapshot with its attempt, runId and state, without relaunching', async () => {
    const first = world();
    const clock = new SimulatedClock();
    const actor = createActor(first.machine, { input: input(), clock }).start();
    await settle();
    first.watcher.send({ type: 'RUNNER_EXITED', exitCode: 1, retryable: true });
    await settle();
    clock.increment(1_000);
    await settle();
    first.watcher.send({ type: 'PROGRESS', progress: { elapsedMs: 1, requests: 5, errors: 0, rps: 5, p99Ms: 3 } });
    const saved = JSON.parse(JSON.stringify(persistable(actor)));
    actor.stop();
    expect(saved.machineVersion).toBe(MACHINE_VERSION);

    const second = world();
    const snapshot = restore(second.machine, saved);
    expect(snapshot).toBeDefined();
    const revived = createActor(second.machine, { snapshot, input: input(), clock: new SimulatedClock() }).start();
    await settle();

    const snap = revived.getSnapshot();
    expect(benchmarkStateName(snap)).toBe('running');
    expect(snap.context).toMatchObject({ attempt: 2, runId: 'r2', startedAt: 200, lastError: { reason: 'RunnerFailed' } });
    expect(snap.context.progress?.requests).toBe(5);
    expect(second.launch.calls).toHaveLength(0);
    expect(second.watcher.inputs).toEqual([{ runId: 'r2', attempt: 2 }]);

    second.watcher.send({ type: 'RUNNER_EXITED', exitCode: 0, retryable: true });
    await settle();
    expect(benchmarkPhase(revived.getSnapshot())).toBe('Succeeded');
  });

  it('re-arms the backoff of a restored retrying actor on RESUME', async () => {
    const first = world();
    const actor = createActor(first.machine, { input: input(), clock: new SimulatedClock() }).start();
    await settle();
    first.watcher.send({ type: 'RUNNER_EXITED', exitCode: 1, retryable: true });
    await settle();
    const saved = JSON.parse(JSON.stringify(persistable(actor)));
    actor.stop();

    const second = world();
    const clock = new SimulatedClock();
    const revived = createActor(second.machine, { snapshot: restore(second.machine, saved), input: input(), clock }).start();
    revived.send({ type: 'RESUME' });
    clock.increment(999);
    await settle();
    expect(benchmarkPhase(revived.getSnapshot())).toBe('Retrying');
    clock.increment(1);
    await settle();
    expect(second.launch.calls).toEqual([{ name: 'vllm-load', generation: 3, attempt: 2 }]);
  });

  it('ignores a snapshot persisted by another machine version', async () => {
    const w = world();
    const actor = createActor(w.machine, { input: input(), clock: new SimulatedClock() }).start();
    await settle();
    const saved = { ...persistable(actor), machineVersion: 'benchmark/0' };
    expect(restore(w.machine, saved)).toBeUndefined();
    expect(restore(w.machine, { nonsense: true })).toBeUndefined();
  });

  it('names the missing effect when the reconciler forgot to provide it', async () => {
    const actor = createActor(benchmarkMachine, { input: input({ retries: { max: 0, backoff: 1, maxBackoff: 1 } }), clock: new SimulatedClock() }).start();
    await settle();
    expect(benchmarkPhase(actor.getSnapshot())).toBe('Failed');
    expect(actor.getSnapshot().context.lastError?.message).toMatch(/actor 'launchRunner' was not provided/);
  });
});
