// Steps every reconciler shares: the status of an invalid document, and the
// clean-up of whatever is still launched for a resource that is gone.
import type { Kind, Status } from '../api/schemas.js';
import { mergeConditions, validCondition } from './conditions.js';
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

export async function cleanupLaunches(deps: ReconcilerDeps, kind: Kind, name: string): Promise<void> {
  for (const launched of await deps.executor.list()) {
    if (launched.ref.kind !== kind || launched.ref.name !== name) continue;
    await deps.executor.stop(launched);
    await deps.executor.forget(launched);
    deps.log.info('Stopped leftover launch', { kind, name, id: launched.id });
  }
}
