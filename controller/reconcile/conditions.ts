// Kubernetes-style conditions: setting one keeps its lastTransitionTime unless
// its status flips, so a repeated reconcile writes the same bytes.
import type { Condition } from '../api/schemas.js';

export type ConditionInput = Omit<Condition, 'lastTransitionTime'>;

export function mergeConditions(previous: Condition[] | undefined, next: ConditionInput[], now: Date): Condition[] {
  return next.map((c) => {
    const old = previous?.find((p) => p.type === c.type);
    const lastTransitionTime = old && old.status === c.status ? old.lastTransitionTime : now.toISOString();
    return { ...c, lastTransitionTime };
  });
}

export function validCondition(ok: boolean, message = ''): ConditionInput {
  return ok
    ? { type: 'Valid', status: 'True', reason: 'SpecValid', message: '' }
    : { type: 'Valid', status: 'False', reason: 'InvalidSpec', message };
}
