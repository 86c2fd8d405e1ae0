// Steps every reconciler shares: the status of an invalid document, and the
// clean-up of whatever is still launched for a resource that is gone.
import type { Kind, Status } from '../api/schemas.js';
import { mergeConditions, validCondition } from './conditions.js';
import type { LaunchRef } from '../executor/types.js';
import type { ReconcilerDeps } from './deps.js';

export function invalidStatus(prev: Status | undefined, problems: string, keepRunning: boolean): Status {
  const conditions = mergeConditions(prev?.conditions, [validCondition(false, problems)], new Date());
  const kept = prev?.conditions?.filter((c) => c.type !== 'Valid') ?? [];
  if (keepRunning) {
    // Something of the previous generation still runs: keep its status, flag the file.
    return { ...prev, conditions: [conditions[0], ...kept], message: `the file is invalid (${problems}); the previous generation keeps running until it is fixed` };
  }
  return { phase: 'Invalid', conditions, message: problems };
}

/** Stops and forgets every launch of this resource, except those `keep` names. */
export async function cleanupLaunches(deps: ReconcilerDeps, kind: Kind, name: string, keep: (ref: LaunchRef) => boolean = () => false): Promise<void> {
  for (const launched of await deps.executor.list()) {
    if (launched.ref.kind !== kind || launched.ref.name !== name || keep(launched.ref)) continue;
    await deps.executor.stop(launched);
    await deps.executor.forget(launched);
    deps.log.info('Stopped leftover launch', { kind, name, id: launched.id });
  }
}

/** Stops and forgets the launch for ref, if there is one; true when there was. */
export async function stopLaunch(deps: ReconcilerDeps, ref: LaunchRef): Promise<boolean> {
  const launched = await deps.executor.find(ref);
  if (!launched) return false;
  await deps.executor.stop(launched);
  await deps.executor.forget(launched);
  deps.log.info(`Stopped ${ref.role}`, { kind: ref.kind, name: ref.name, attempt: ref.attempt });
  return true;
}
