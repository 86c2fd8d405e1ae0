// Saving and restoring machine actors across controller restarts: a persisted
// snapshot is tagged with its machine version and dropped when the shape moved on.
import type { Actor, AnyStateMachine, Snapshot } from 'xstate';

export interface PersistedMachine {
  machineVersion: string;
  /** From actor.getPersistedSnapshot(): plain JSON, since contexts hold no live handles. */
  snapshot: Snapshot<unknown>;
}

/**
 * What to store for a running actor. Delayed transitions (the retry backoff)
 * are not part of it: after starting a restored actor send `{ type: 'RESUME' }`
 * so a `retrying` actor re-arms its timer. Promise actors that were running
 * restart on restore, which is why every provided effect must be idempotent.
 */
export function persistable(actor: Actor<AnyStateMachine>): PersistedMachine {
  const version = actor.logic.version;
  if (version === undefined) throw new Error(`machine '${actor.logic.id}' has no version; set version: MACHINE_VERSION in createMachine`);
  return { machineVersion: version, snapshot: actor.getPersistedSnapshot() };
}

/**
 * The snapshot to pass as createActor(machine, { snapshot, input }), or
 * undefined when `persisted` is missing, malformed or from another version:
 * the caller then starts a fresh actor, whose actors find the existing work by name.
 */
export function restore(machine: AnyStateMachine, persisted: unknown, version: string | undefined = machine.version): Snapshot<unknown> | undefined {
  if (typeof persisted !== 'object' || persisted === null) return undefined;
  const { machineVersion, snapshot } = persisted as Partial<PersistedMachine>;
  if (version === undefined || machineVersion !== version) return undefined;
  if (typeof snapshot !== 'object' || snapshot === null || typeof (snapshot as { status?: unknown }).status !== 'string') return undefined;
  return snapshot;
}
