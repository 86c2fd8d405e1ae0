// One machine shared by every resource of a kind: each actor runs the effects
// bound to it, a stop aborts only its own, and a restored actor runs its own.
import { describe, expect, it } from 'vitest';
import { createActor, fromCallback, fromPromise, setup, type EventObject } from 'xstate';
import { bindEffects, sharedMachine } from '../../../controller/reconcile/resource-effects.js';

const machine = setup({
  actors: {
    work: fromPromise<string, { n: number }>(async () => 'placeholder'),
    watch: fromCallback<EventObject, { n: number }>(() => undefined),
  },
}).createMachine({
  id: 'demo',
  context: ({ input }: { input: { n: number } }) => ({ n: input.n, out: '' }),
  initial: 'working',
  states: {
    working: {
      invoke: { src: 'work', input: ({ context }) => ({ n: context.n }), onDone: { target: 'watching', actions: ({ context, event }) => (context.out = event.output) } },
      on: { STOP_WORK: 'stopped' },
    },
    watching: { invoke: { src: 'watch', input: ({ context }) => ({ n: context.n }) }, on: { GONE: 'gone' } },
    stopped: {},
    gone: {},
  },
});

const shared = sharedMachine(machine);
const tick = () => new Promise((r) => setTimeout(r, 5));

function effectsOf(name: string, log: string[], release: Map<string, () => void>) {
  return {
    work: fromPromise<string, { n: number }>(
      ({ input, signal }) =>
        new Promise((resolve) => {
          log.push(`${name} work ${input.n}`);
          signal.addEventListener('abort', () => log.push(`${name} aborted`));
          release.set(name, () => resolve(`${name} done`));
        }),
    ),
    watch: fromCallback<EventObject, { n: number }>(({ input, sendBack }) => {
      log.push(`${name} watch ${input.n}`);
      release.set(`${name} gone`, () => sendBack({ type: 'GONE' }));
      return () => log.push(`${name} unwatched`);
    }),
  };
}

function start(name: string, n: number, log: string[], release: Map<string, () => void>, snapshot?: unknown) {
  const actor = createActor(shared, { input: { n }, ...(snapshot ? { snapshot: snapshot as never } : {}) });
  bindEffects(actor, effectsOf(name, log, release));
  actor.start();
  return actor;
}

describe('a machine shared by every resource', () => {
  it('runs each actor\'s own effects, and a stop aborts only that actor\'s', async () => {
    const log: string[] = [];
    const release = new Map<string, () => void>();
    const a = start('a', 1, log, release);
    const b = start('b', 2, log, release);
    expect(log).toEqual(['a work 1', 'b work 2']);
    a.send({ type: 'STOP_WORK' });
    release.get('b')!();
    await tick();
    expect(log).toEqual(['a work 1', 'b work 2', 'a aborted', 'b watch 2']);
    expect(a.getSnapshot().value).toBe('stopped');
    expect(b.getSnapshot()).toMatchObject({ value: 'watching', context: { out: 'b done' } });
    release.get('b gone')!();
    expect(b.getSnapshot().value).toBe('gone');
    expect(log.at(-1)).toBe('b unwatched');
  });

  it('restores a persisted actor onto its own effects', async () => {
    const log: string[] = [];
    const release = new Map<string, () => void>();
    const a = start('a', 7, log, release);
    release.get('a')!();
    await tick();
    const persisted = JSON.parse(JSON.stringify(a.getPersistedSnapshot()));
    a.stop();
    const again = start('a2', 7, log, release, persisted);
    release.get('a2 gone')!();
    expect(again.getSnapshot()).toMatchObject({ value: 'gone', context: { out: 'a done' } });
  });

  it('says what is missing when a machine starts with no effects bound', () => {
    const actor = createActor(shared, { input: { n: 1 } });
    const errors: unknown[] = [];
    actor.subscribe({ error: (e) => errors.push(e) });
    actor.start();
    expect(String(errors[0])).toMatch(/effect 'work' was invoked by a machine with no effects bound/);
  });
});
