import { describe, expect, it } from 'vitest';
import { createActor, fromPromise, SimulatedClock } from 'xstate';
import {
  monitoringStackMachine,
  monitoringStackPhase,
  type StackAttempt,
  type StackWatchEvent,
  type StartedStack,
  type StartStackInput,
  type StopStackInput,
} from '../../../machines/monitoring-stack.js';
import { fakeWatcher, recorder, settle } from './harness.js';

const input = { name: 'monitoring', generation: 1, retries: { max: 1, backoff: 5_000, maxBackoff: 60_000 } };
const endpoints = (attempt: number) => ({
  prometheus: { host: `node${attempt}`, port: 9090 },
  grafana: { host: `node${attempt}`, port: 3000 },
});

function world(ready: (input: StackAttempt, call: number) => void = () => undefined) {
  const start = recorder<StartStackInput, StartedStack>((i) => ({ endpoints: endpoints(i.attempt) }));
  const check = recorder<StackAttempt, void>(ready);
  const stop = recorder<StopStackInput, void>(() => undefined);
  const watcher = fakeWatcher<StackAttempt, StackWatchEvent>();
  const machine = monitoringStackMachine.provide({
    actors: { startStack: fromPromise(start.run), waitReady: fromPromise(check.run), watchStack: watcher.logic, stopStack: fromPromise(stop.run) },
  });
  return { machine, start, check, stop, watcher };
}

describe('monitoringStackMachine', () => {
  it('starts the stack, waits for every component and publishes the endpoints', async () => {
    const w = world();
    const actor = createActor(w.machine, { input, clock: new SimulatedClock() }).start();
    await settle();
    const snap = actor.getSnapshot();
    expect(monitoringStackPhase(snap)).toBe('Ready');
    expect(snap.context.endpoints).toEqual(endpoints(1));
    expect(w.check.calls).toEqual([{ endpoints: endpoints(1), attempt: 1 }]);
    expect(w.watcher.inputs).toEqual([{ endpoints: endpoints(1), attempt: 1 }]);
  });

  it('retries a stack that never got ready, then fails when retries are used up', async () => {
    const w = world(() => {
      throw new Error('grafana on node1:3000 did not answer within 120s');
    });
    const clock = new SimulatedClock();
    const actor = createActor(w.machine, { input, clock }).start();
    await settle();
    expect(monitoringStackPhase(actor.getSnapshot())).toBe('Retrying');
    expect(actor.getSnapshot().context.lastError?.reason).toBe('ReadinessTimeout');

    clock.increment(4_999);
    await settle();
    expect(w.start.calls).toHaveLength(1);
    clock.increment(1);
    await settle();
    expect(w.start.calls.map((c) => c.attempt)).toEqual([1, 2]);

    const snap = actor.getSnapshot();
    expect(monitoringStackPhase(snap)).toBe('Failed');
    expect(snap.context.lastError).toEqual({ reason: 'ReadinessTimeout', message: 'grafana on node1:3000 did not answer within 120s' });
    expect(w.stop.calls.map((c) => c.attempt)).toEqual([1, 2]);
  });

  it('restarts after a component exits, and stops on DELETE', async () => {
    const w = world();
    const clock = new SimulatedClock();
    const actor = createActor(w.machine, { input, clock }).start();
    await settle();
    w.watcher.send({ type: 'STACK_EXITED', reason: 'ContainerExited', message: 'prometheus exited with code 1', retryable: true });
    clock.increment(5_000);
    await settle();
    expect(monitoringStackPhase(actor.getSnapshot())).toBe('Ready');
    expect(actor.getSnapshot().context).toMatchObject({ attempt: 2, endpoints: endpoints(2) });

    actor.send({ type: 'DELETE' });
    await settle();
    expect(actor.getSnapshot().status).toBe('done');
    expect(w.stop.calls.at(-1)).toEqual({ name: 'monitoring', generation: 1, attempt: 2 });
  });
});
