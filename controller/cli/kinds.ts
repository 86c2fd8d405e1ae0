// Maps what a user types (`benchmarks`, `bench`, `svc`, `Benchmark`) to a Kind,
// with one error message that lists what is accepted.
import { KINDS, type Kind } from '../api/schemas.js';
import { PLURALS, pluralOf } from '../server/view.js';

export function kindFromArg(arg: string): Kind | undefined {
  const lower = arg.toLowerCase();
  return PLURALS[lower] ?? KINDS.find((k) => k.toLowerCase() === lower);
}

export function unknownKindMessage(arg: string, allowAll = false): string {
  const valid = KINDS.map((k) => pluralOf(k));
  if (allowAll) valid.push('all');
  return `unknown resource type "${arg}"; use one of ${valid.join(', ')}`;
}

/** `benchmark/vllm-load`, the way kubectl names one object in messages. */
export const refOf = (kind: string, name: string): string => `${kind.toLowerCase()}/${name}`;
