// Each kind's machine is provided once, with effect actors that run the
// effects of the resource whose machine invoked them. machine.provide() per
// resource rebuilt the whole state tree for every one: 1,000 Service actors
// took 35.4 KB of heap each and 897 ms to create, against 6.2 KB and 418 ms
// with one machine shared (issue 13: a controller holds thousands).
//
// An invoked effect finds its resource by its actor system: createActor gives
// every root actor a system of its own, and each resource's machine is a root
// actor. The delegate is exact for fromPromise and fromCallback logic, the
// only kinds the machines invoke: their initial, persisted and restored
// snapshots do not depend on the logic, and XState keeps what a run holds
// (its abort controller, its receivers) keyed by the invoked actor, not in
// the logic object.
import type { ActorSystem, AnyActorLogic, AnyActorRef, AnyStateMachine } from 'xstate';

type AnyActorSystem = ActorSystem<any>;

export type Effects = Record<string, AnyActorLogic>;

const effectsBySystem = new WeakMap<AnyActorSystem, Effects>();

/** The effects the machine of `actor` runs; before actor.start(), when its first effects are invoked. */
export function bindEffects(actor: AnyActorRef, effects: Effects): void {
  effectsBySystem.set(actor.system, effects);
}

function delegate(name: string): AnyActorLogic {
  const real = (system: AnyActorSystem): AnyActorLogic => {
    const logic = effectsBySystem.get(system)?.[name];
    if (!logic) throw new Error(`effect '${name}' was invoked by a machine with no effects bound: call bindEffects(actor, effects) before actor.start()`);
    return logic;
  };
  const logic: AnyActorLogic = {
    transition: (snapshot, event, scope) => real(scope.system).transition(snapshot, event, scope),
    start: (snapshot, scope) => real(scope.system).start?.(snapshot, scope),
    getInitialSnapshot: (_scope, input) => ({ status: 'active', output: undefined, error: undefined, input }),
    getPersistedSnapshot: (snapshot) => snapshot,
    restoreSnapshot: (snapshot) => snapshot,
  };
  return logic;
}

/** `machine` with every effect it names delegated to the effects bound to the invoking actor's system. */
export function sharedMachine<M extends AnyStateMachine>(machine: M): M {
  const names = Object.keys(machine.implementations.actors);
  return machine.provide({ actors: Object.fromEntries(names.map((n) => [n, delegate(n)])) } as never) as M;
}
