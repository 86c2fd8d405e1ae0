import { describe, expect, it } from 'vitest';
import { createActor, fromPromise, SimulatedClock } from 'xstate';
import { ActorFailure } from '../../../machines/lifecycle.js';
import { persistable, restore } from '../../../machines/persist.js';
import {
  serviceMachine,
  servicePhase,
  serviceStateName,
  type ServiceAttempt,
  type ServiceWatchEvent,
  type ServiceInput,
  type StartedService,
  type StartServiceInput,
  type StopServiceInput,
} from '../../../machines/service.js';
import { fakeWatcher, recorder, settle } from './harness.js';

const retries = { max: 2, backoff: 1_000, maxBackoff: 60_000 };
const launched: ServiceInput = { name: 'vllm', generation: 1, external: false, retries };

function world(opts: { ready?: (input: ServiceAttempt, call: number) => void; start?: (input: StartServiceInput) => StartedService } = {}) {
  const start = recorder<StartServiceInput, StartedService>(opts.start ?? ((i) => ({ endpoint: { host: `node${i.attempt}`, port: 8000 } })));
  const ready = recorder<ServiceAttempt, void>(opts.ready ?? (() => undefined));
  const stop = recorder<StopServiceInput, void>(() => undefined);
  const watcher = fakeWatcher<ServiceAttempt, ServiceWatchEvent>();
  const machine = serviceMachine.provide({
    actors: { startService: fromPromise(start.run), waitReady: fromPromise(ready.run), watchService: watcher.logic, stopService: fromPromise(stop.run) },
  });
  return { machine, start, ready, stop, watcher };
}

describe('serviceMachine', () => {
  it('starts the service, waits until it answers and watches it', async () => {
    const w = world();
    const actor = createActor(w.machine, { input: launched, clock: new SimulatedClock() }).start();
    expect(servicePhase(actor.getSnapshot())).toBe('Starting');
    await settle();

    const snap = actor.getSnapshot();
    expect(servicePhase(snap)).toBe('Ready');
    expect(snap.context).toMatchObject({ attempt: 1, endpoint: { host: 'node1', port: 8000 } });
    expect(w.start.calls).toEqual([{ name: 'vllm', generation: 1, attempt: 1 }]);
    expect(w.ready.calls).toEqual([{ endpoint: { host: 'node1', port: 8000 }, attempt: 1 }]);
    expect(w.watcher.inputs).toEqual([{ endpoint: { host: 'node1', port: 8000 }, attempt: 1 }]);
    expect(w.stop.calls).toHaveLength(0);
  });

  it('checks an external endpoint without starting anything', async () => {
    const w = world();
    const actor = createActor(w.machine, {
      input: { name: 'pg', generation: 2, external: true, endpoint: { host: 'db.example', port: 5432 }, retries },
      clock: new SimulatedClock(),
    }).start();
    await settle();
    expect(servicePhase(actor.getSnapshot())).toBe('Ready');
    expect(w.start.calls).toHaveLength(0);
    expect(w.ready.calls).toEqual([{ endpoint: { host: 'db.example', port: 5432 }, attempt: 1 }]);
  });

  it('retries a readiness timeout after the backoff, stopping the stuck attempt first', async () => {
    const w = world({
      ready: (_i, call) => {
        if (call === 1) throw new Error('tcp node1:8000 did not open within 600s; raise spec.readiness.timeout if the model loads slowly');
      },
    });
    const clock = new SimulatedClock();
    const actor = createActor(w.machine, { input: launched, clock }).start();
    await settle();

    expect(servicePhase(actor.getSnapshot())).toBe('Retrying');
    expect(actor.getSnapshot().context.lastError).toMatchObject({ reason: 'ReadinessTimeout', message: expect.stringMatching(/did not open/) });
    expect(w.stop.calls).toEqual([{ name: 'vllm', generation: 1, attempt: 1, external: false }]);

    clock.increment(999);
    await settle();
    expect(w.start.calls).toHaveLength(1);
    clock.increment(1);
    await settle();

    const snap = actor.getSnapshot();
    expect(servicePhase(snap)).toBe('Ready');
    expect(snap.context).toMatchObject({ attempt: 2, endpoint: { host: 'node2', port: 8000 } });
    expect(snap.context.lastError).toBeUndefined();
    expect(w.start.calls.map((c) => c.attempt)).toEqual([1, 2]);
  });

  it('restarts a service that exited while ready, and fails once retries are used up', async () => {
    const w = world();
    const clock = new SimulatedClock();
    const actor = createActor(w.machine, { input: { ...launched, retries: { ...retries, max: 1 } }, clock }).start();
    await settle();
    w.watcher.send({ type: 'SERVICE_EXITED', reason: 'ProcessExited', message: 'vllm exited with code 137 (out of memory?)', retryable: true });
    expect(servicePhase(actor.getSnapshot())).toBe('Retrying');
    expect(w.watcher.stopped).toBe(1);
    clock.increment(1_000);
    await settle();
    expect(servicePhase(actor.getSnapshot())).toBe('Ready');

    w.watcher.send({ type: 'SERVICE_EXITED', reason: 'ProcessExited', message: 'vllm exited with code 137 (out of memory?)', retryable: true });
    await settle();
    const snap = actor.getSnapshot();
    expect(servicePhase(snap)).toBe('Failed');
    expect(snap.context.lastError).toEqual({ reason: 'ProcessExited', message: 'vllm exited with code 137 (out of memory?)' });
    // The failed attempt is stopped so it does not keep its node.
    expect(w.stop.calls.map((c) => c.attempt)).toEqual([1, 2]);
    clock.increment(1_000_000);
    await settle();
    expect(w.start.calls).toHaveLength(2);
  });

  it('fails at once on a non-retryable exit or start error', async () => {
    const w = world();
    const actor = createActor(w.machine, { input: launched, clock: new SimulatedClock() }).start();
    await settle();
    w.watcher.send({ type: 'SERVICE_EXITED', reason: 'BadArguments', message: 'unknown flag --foo: fix spec.args', retryable: false });
    expect(servicePhase(actor.getSnapshot())).toBe('Failed');

    const bad = world({
      start: () => {
        throw new ActorFailure('image /sif/vllm.sif not found: run containers/pull.sh or set spec.image', 'ImageMissing', false);
      },
    });
    const doomed = createActor(bad.machine, { input: launched, clock: new SimulatedClock() }).start();
    await settle();
    expect(servicePhase(doomed.getSnapshot())).toBe('Failed');
    expect(doomed.getSnapshot().context.lastError?.reason).toBe('ImageMissing');
  });

  it('stops the service on DELETE and ends stopped, also from Failed', async () => {
    const w = world();
    const actor = createActor(w.machine, { input: launched, clock: new SimulatedClock() }).start();
    await settle();
    actor.send({ type: 'DELETE' });
    expect(servicePhase(actor.getSnapshot())).toBe('Terminating');
    await settle();
    expect(actor.getSnapshot().status).toBe('done');
    expect(w.stop.calls).toEqual([{ name: 'vllm', generation: 1, attempt: 1, external: false }]);

    const failed = createActor(w.machine, { input: { ...launched, retries: { ...retries, max: 0 } }, clock: new SimulatedClock() }).start();
    await settle();
    w.watcher.send({ type: 'SERVICE_EXITED', reason: 'ProcessExited', message: 'gone', retryable: true });
    await settle();
    expect(servicePhase(failed.getSnapshot())).toBe('Failed');
    failed.send({ type: 'DELETE' });
    await settle();
    expect(serviceStateName(failed.getSnapshot())).toBe('stopped');
  });

  it('restores a ready service with its endpoint and attempt, without starting it again', async () => {
    const first = world();
    const actor = createActor(first.machine, { input: launched, clock: new SimulatedClock() }).start();
    await settle();
    const saved = JSON.parse(JSON.stringify(persistable(actor)));
    actor.stop();

    const second = world();
    const revived = createActor(second.machine, { snapshot: restore(second.machine, saved), input: launched, clock: new SimulatedClock() }).start();
    await settle();
    expect(servicePhase(revived.getSnapshot())).toBe('Ready');
    expect(revived.getSnapshot().context).toMatchObject({ attempt: 1, endpoint: { host: 'node1', port: 8000 } });
    expect(second.start.calls).toHaveLength(0);
    expect(second.watcher.inputs).toEqual([{ endpoint: { host: 'node1', port: 8000 }, attempt: 1 }]);
  });
});
