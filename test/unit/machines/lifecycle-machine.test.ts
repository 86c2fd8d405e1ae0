// The one lifecycle machine, through its two instances: Service and MonitoringStack.
import { describe, expect, it } from 'vitest';
import { createActor, fromPromise, SimulatedClock } from 'xstate';
import { lifecyclePhase, lifecycleMachine, type AttemptOf, type StartInput } from '../../../machines/lifecycle-machine.js';
import { ActorFailure, stateNameOf, type ExitedEvent, type StopInput } from '../../../machines/lifecycle.js';
import { monitoringStackMachine, type StackEndpoints } from '../../../machines/monitoring-stack.js';
import { persistable, restore } from '../../../machines/persist.js';
import { serviceMachine, type ServiceEndpoint, type ServiceInput } from '../../../machines/service.js';
import { fakeWatcher, recorder, settle } from './harness.js';

const retries = { max: 2, backoff: 1_000, maxBackoff: 60_000 };
const launched: ServiceInput = { name: 'vllm', generation: 1, retries };

/** The order in which effects ran, across all of them: "start 1", "stop 1", "start 2"... */
function world(opts: { ready?: (input: AttemptOf<ServiceEndpoint>, call: number) => void; start?: (input: StartInput) => ServiceEndpoint } = {}) {
  const log: string[] = [];
  const start = recorder<StartInput, ServiceEndpoint>((i) => {
    log.push(`start ${i.attempt}`);
    return (opts.start ?? ((x) => ({ host: `node${x.attempt}`, port: 8000 })))(i);
  });
  const ready = recorder<AttemptOf<ServiceEndpoint>, void>(opts.ready ?? (() => undefined));
  const stop = recorder<StopInput, void>((i) => {
    log.push(`stop ${i.attempt}`);
  });
  const watcher = fakeWatcher<AttemptOf<ServiceEndpoint>, ExitedEvent>();
  const machine = serviceMachine.provide({ actors: { start: fromPromise(start.run), waitReady: fromPromise(ready.run), watch: watcher.logic, stop: fromPromise(stop.run) } });
  return { machine, start, ready, stop, watcher, log };
}

const exited = (retryable = true): ExitedEvent => ({ type: 'EXITED', reason: 'ProcessExited', message: 'vllm exited with code 137 (out of memory?)', retryable });

describe('lifecycleMachine (Service)', () => {
  it('starts the service, waits until it answers and watches it', async () => {
    const w = world();
    const actor = createActor(w.machine, { input: launched, clock: new SimulatedClock() }).start();
    expect(lifecyclePhase(actor.getSnapshot())).toBe('Starting');
    await settle();
    const snap = actor.getSnapshot();
    expect(lifecyclePhase(snap)).toBe('Ready');
    expect(snap.context).toMatchObject({ attempt: 1, started: { host: 'node1', port: 8000 } });
    expect(w.start.calls).toEqual([{ name: 'vllm', generation: 1, attempt: 1 }]);
    expect(w.ready.calls).toEqual([{ started: { host: 'node1', port: 8000 }, attempt: 1 }]);
    expect(w.watcher.inputs).toEqual([{ started: { host: 'node1', port: 8000 }, attempt: 1 }]);
    expect(w.stop.calls).toHaveLength(0);
  });

  it('starts a service again at once when its job reaches its time limit while ready, using up no retry', async () => {
    const w = world();
    const actor = createActor(w.machine, { input: { ...launched, retries: { ...retries, max: 1 } }, clock: new SimulatedClock() }).start();
    await settle();
    w.watcher.send({ type: 'EXITED', reason: 'TimeLimitReached', message: "service vllm reached its job's time limit", retryable: true, relaunch: true });
    await settle();
    expect(lifecyclePhase(actor.getSnapshot())).toBe('Ready');
    expect(actor.getSnapshot().context).toMatchObject({ attempt: 2, relaunches: 1, started: { host: 'node2', port: 8000 } });
    expect(w.log).toEqual(['start 1', 'stop 1', 'start 2']);
    // retries.max 1, still unused: a real failure of the relaunched service is retried.
    w.watcher.send(exited());
    await settle();
    expect(lifecyclePhase(actor.getSnapshot())).toBe('Retrying');
  });

  it('renews the attempt a RENEW names, once however many ask, using up no retry; a request for another attempt is moot', async () => {
    const w = world();
    const actor = createActor(w.machine, { input: { ...launched, retries: { ...retries, max: 0 } }, clock: new SimulatedClock() }).start();
    await settle();
    actor.send({ type: 'RENEW', attempt: 2, message: 'not this one' });
    expect(lifecyclePhase(actor.getSnapshot())).toBe('Ready');
    actor.send({ type: 'RENEW', attempt: 1, message: 'benchmark a: its job ends in 1m' });
    actor.send({ type: 'RENEW', attempt: 1, message: 'benchmark b: its job ends in 1m' });
    await settle();
    actor.send({ type: 'RENEW', attempt: 1, message: 'benchmark c, late: its job ends in 1m' });
    await settle();
    expect(lifecyclePhase(actor.getSnapshot())).toBe('Ready');
    expect(actor.getSnapshot().context).toMatchObject({ attempt: 2, relaunches: 1, started: { host: 'node2', port: 8000 } });
    expect(w.log).toEqual(['start 1', 'stop 1', 'start 2']);
    // retries.max 0, and the renewal did not use it: a real failure now fails, as it would have on attempt 1.
    w.watcher.send(exited());
    await settle();
    expect(lifecyclePhase(actor.getSnapshot())).toBe('Failed');
  });

  it('does not renew what it was given (spec.endpoint): there is no job to start again', async () => {
    const w = world();
    const actor = createActor(w.machine, { input: { ...launched, given: { host: 'db.example', port: 5432 } }, clock: new SimulatedClock() }).start();
    await settle();
    actor.send({ type: 'RENEW', attempt: 1, message: 'its job ends in 1m' });
    await settle();
    expect(lifecyclePhase(actor.getSnapshot())).toBe('Ready');
    expect(actor.getSnapshot().context.attempt).toBe(1);
    expect(w.stop.calls).toHaveLength(0);
  });

  it('checks what is given (an external endpoint) without starting anything', async () => {
    const w = world();
    const actor = createActor(w.machine, { input: { ...launched, given: { host: 'db.example', port: 5432 } }, clock: new SimulatedClock() }).start();
    await settle();
    expect(lifecyclePhase(actor.getSnapshot())).toBe('Ready');
    expect(w.start.calls).toHaveLength(0);
    expect(w.ready.calls).toEqual([{ started: { host: 'db.example', port: 5432 }, attempt: 1 }]);
  });

  it('stops a failed attempt before the backoff, and only then starts the next', async () => {
    const w = world({
      ready: (_i, call) => {
        if (call === 1) throw new Error('tcp node1:8000 did not open within 600s; raise spec.readiness.timeout if the model loads slowly');
      },
    });
    const clock = new SimulatedClock();
    const actor = createActor(w.machine, { input: launched, clock }).start();
    await settle();
    expect(lifecyclePhase(actor.getSnapshot())).toBe('Retrying');
    expect(stateNameOf(actor.getSnapshot().value)).toBe('backoff');
    expect(actor.getSnapshot().context.lastError).toMatchObject({ reason: 'ReadinessTimeout', message: expect.stringMatching(/did not open/) });
    clock.increment(999);
    await settle();
    expect(w.log).toEqual(['start 1', 'stop 1']);
    clock.increment(1);
    await settle();
    expect(w.log).toEqual(['start 1', 'stop 1', 'start 2']);
    const snap = actor.getSnapshot();
    expect(lifecyclePhase(snap)).toBe('Ready');
    expect(snap.context).toMatchObject({ attempt: 2, started: { host: 'node2', port: 8000 } });
    expect(snap.context.lastError).toBeUndefined();
  });

  it('waits for a slow stop before counting the backoff: attempts never overlap', async () => {
    let release!: () => void;
    const w = world();
    const clock = new SimulatedClock();
    const slowStop = fromPromise<void, StopInput>(async ({ input }) => {
      w.log.push(`stopping ${input.attempt}`);
      await new Promise<void>((r) => (release = r));
      w.log.push(`stopped ${input.attempt}`);
    });
    const actor = createActor(w.machine.provide({ actors: { stop: slowStop } }), { input: launched, clock }).start();
    await settle();
    w.watcher.send(exited());
    clock.increment(60_000);
    await settle();
    expect(w.log).toEqual(['start 1', 'stopping 1']);
    expect(stateNameOf(actor.getSnapshot().value)).toBe('retrying');
    release();
    await settle();
    clock.increment(1_000);
    await settle();
    expect(w.log).toEqual(['start 1', 'stopping 1', 'stopped 1', 'start 2']);
  });

  it('restarts a service that exited while ready, and fails once retries are used up, stopping each attempt', async () => {
    const w = world();
    const clock = new SimulatedClock();
    const actor = createActor(w.machine, { input: { ...launched, retries: { ...retries, max: 1 } }, clock }).start();
    await settle();
    w.watcher.send(exited());
    await settle();
    expect(lifecyclePhase(actor.getSnapshot())).toBe('Retrying');
    expect(w.watcher.stopped).toBe(1);
    clock.increment(1_000);
    await settle();
    expect(lifecyclePhase(actor.getSnapshot())).toBe('Ready');
    w.watcher.send(exited());
    await settle();
    const snap = actor.getSnapshot();
    expect(lifecyclePhase(snap)).toBe('Failed');
    expect(snap.context.lastError).toEqual({ reason: 'ProcessExited', message: 'vllm exited with code 137 (out of memory?)' });
    // The failed attempt is stopped so it does not keep its node.
    expect(w.log).toEqual(['start 1', 'stop 1', 'start 2', 'stop 2']);
    clock.increment(1_000_000);
    await settle();
    expect(w.start.calls).toHaveLength(2);
  });

  it('fails at once on a non-retryable exit or start error', async () => {
    const w = world();
    const actor = createActor(w.machine, { input: launched, clock: new SimulatedClock() }).start();
    await settle();
    w.watcher.send({ type: 'EXITED', reason: 'BadArguments', message: 'unknown flag --foo: fix spec.args', retryable: false });
    expect(lifecyclePhase(actor.getSnapshot())).toBe('Failed');

    const bad = world({
      start: () => {
        throw new ActorFailure('could not start apptainer: no such program on this host; install Apptainer', 'ProgramNotFound', false);
      },
    });
    const doomed = createActor(bad.machine, { input: launched, clock: new SimulatedClock() }).start();
    await settle();
    expect(lifecyclePhase(doomed.getSnapshot())).toBe('Failed');
    expect(doomed.getSnapshot().context.lastError?.reason).toBe('ProgramNotFound');
    expect(bad.start.calls).toHaveLength(1);
  });

  it('stops the service on DELETE and ends stopped, also from Failed and from the backoff', async () => {
    const w = world();
    const actor = createActor(w.machine, { input: launched, clock: new SimulatedClock() }).start();
    await settle();
    actor.send({ type: 'DELETE' });
    expect(lifecyclePhase(actor.getSnapshot())).toBe('Terminating');
    await settle();
    expect(actor.getSnapshot().status).toBe('done');
    expect(w.stop.calls).toEqual([{ attempt: 1 }]);

    const failed = createActor(w.machine, { input: { ...launched, retries: { ...retries, max: 0 } }, clock: new SimulatedClock() }).start();
    await settle();
    w.watcher.send(exited());
    await settle();
    expect(lifecyclePhase(failed.getSnapshot())).toBe('Failed');
    failed.send({ type: 'DELETE' });
    await settle();
    expect(stateNameOf(failed.getSnapshot().value)).toBe('stopped');

    const waiting = createActor(w.machine, { input: launched, clock: new SimulatedClock() }).start();
    await settle();
    w.watcher.send(exited());
    await settle();
    expect(stateNameOf(waiting.getSnapshot().value)).toBe('backoff');
    waiting.send({ type: 'DELETE' });
    await settle();
    expect(waiting.getSnapshot().status).toBe('done');
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
    expect(lifecyclePhase(revived.getSnapshot())).toBe('Ready');
    expect(revived.getSnapshot().context).toMatchObject({ attempt: 1, started: { host: 'node1', port: 8000 } });
    expect(second.start.calls).toHaveLength(0);
    expect(second.watcher.inputs).toEqual([{ started: { host: 'node1', port: 8000 }, attempt: 1 }]);
  });

  it('re-arms the backoff of a restored actor on RESUME', async () => {
    const first = world();
    const actor = createActor(first.machine, { input: launched, clock: new SimulatedClock() }).start();
    await settle();
    first.watcher.send(exited());
    await settle();
    expect(stateNameOf(actor.getSnapshot().value)).toBe('backoff');
    const saved = JSON.parse(JSON.stringify(persistable(actor)));
    actor.stop();
    const second = world();
    const clock = new SimulatedClock();
    const revived = createActor(second.machine, { snapshot: restore(second.machine, saved), input: launched, clock }).start();
    revived.send({ type: 'RESUME' });
    clock.increment(1_000);
    await settle();
    expect(second.start.calls.map((c) => c.attempt)).toEqual([2]);
  });
});

describe('lifecycleMachine (MonitoringStack)', () => {
  it('is the same machine with endpoints per component', async () => {
    const endpoints: StackEndpoints = { prometheus: { host: 'n1', port: 9090 }, pushgateway: { host: 'n1', port: 9091 } };
    const start = recorder<StartInput, StackEndpoints>(() => endpoints);
    const watcher = fakeWatcher<AttemptOf<StackEndpoints>, ExitedEvent>();
    const stop = recorder<StopInput, void>(() => undefined);
    const machine = monitoringStackMachine.provide({ actors: { start: fromPromise(start.run), waitReady: fromPromise(async () => undefined), watch: watcher.logic, stop: fromPromise(stop.run) } });
    const clock = new SimulatedClock();
    const actor = createActor(machine, { input: { name: 'mon', generation: 1, retries }, clock }).start();
    await settle();
    expect(lifecyclePhase(actor.getSnapshot())).toBe('Ready');
    expect(actor.getSnapshot().context.started).toEqual(endpoints);
    watcher.send({ type: 'EXITED', reason: 'ComponentExited', message: 'prometheus exited', retryable: true });
    await settle();
    expect(stop.calls).toEqual([{ attempt: 1 }]);
    clock.increment(1_000);
    await settle();
    expect(start.calls.map((c) => c.attempt)).toEqual([1, 2]);
    expect(monitoringStackMachine.version).not.toBe(serviceMachine.version);
  });

  it('names an effect that was not provided, and how to provide it', () => {
    const bare = createActor(lifecycleMachine<ServiceEndpoint>('widget', 'widget/1'), { input: launched });
    const errors: unknown[] = [];
    bare.subscribe({ error: (e) => errors.push(e) });
    bare.start();
    return settle().then(() => {
      expect(lifecyclePhase(bare.getSnapshot())).toBe('Retrying');
      expect(bare.getSnapshot().context.lastError?.message).toMatch(/widget machine: actor 'start' was not provided/);
    });
  });
});
