// What the mappers of one service entry share: its keys, the problems, the
// notes for the file's header, and where each produced field came from.
import { parseSize } from '../../../api/units.js';
import { describe, isMapping, num, type Field, type Problems, type Section } from './reader.js';

export interface EntryContext {
  /** `services[2]`: the entry's key, and the fallback for any problem without a better one. */
  key: string;
  s: Section;
  p: Problems;
  /** How the entry was read, for the header of its file. */
  notes: string[];
  /** Field of the Service (`spec.port`) or Benchmark (`spec.load.rate`) -> recipe key it came from. */
  serviceOrigins: Record<string, string>;
  benchmarkOrigins: Record<string, string>;
}

/**
 * An operation mix: weights by operation. An operation aifb's workload does
 * not run is dropped with a warning (the rest are normalised, as aifb does
 * with any weights); none left is an error.
 */
export function weights(f: Field | undefined, allowed: readonly string[], workload: string, ctx: EntryContext): Record<string, number> | undefined {
  if (!f) return undefined;
  if (!isMapping(f.value)) return ctx.p.error(f.key, `must map operations to weights, e.g. { ${allowed.slice(0, 2).map((o) => `${o}: 0.5`).join(', ')} } (${describe(f.value)} given)`);
  const out: Record<string, number> = {};
  for (const [op, w] of Object.entries(f.value)) {
    const key = `${f.key}.${op}`;
    const weight = num({ key, value: w }, ctx.p, { min: 0 });
    if (weight === undefined) continue;
    if (!allowed.includes(op)) {
      ctx.p.warn(key, `aifb's ${workload} workload has no "${op}" operation (it runs ${allowed.join(', ')}); dropped, and the other weights are normalised. Replace it with one of those, or remove it`);
      continue;
    }
    out[op] = weight;
  }
  if (Object.keys(out).length > 0 && !Object.values(out).some((w) => w > 0)) return ctx.p.error(f.key, 'at least one weight must be greater than 0');
  if (Object.keys(out).length === 0) return ctx.p.error(f.key, `has no operation aifb runs; use ${allowed.join(', ')}`);
  return out;
}

/** A size distribution (`1KB: 0.3`, `10MB: 0.05`): each size must parse, each weight be a number. */
export function sizes(f: Field | undefined, ctx: EntryContext): Record<string, number> | undefined {
  if (!f) return undefined;
  if (!isMapping(f.value)) return ctx.p.error(f.key, `must map sizes to weights, e.g. { 1KB: 0.5, 1MB: 0.5 } (${describe(f.value)} given)`);
  const out: Record<string, number> = {};
  let ok = true;
  for (const [size, w] of Object.entries(f.value)) {
    const key = `${f.key}.${size}`;
    try {
      parseSize(size);
    } catch (e) {
      ok = false;
      ctx.p.error(key, (e as Error).message);
      continue;
    }
    const weight = num({ key, value: w }, ctx.p, { min: 0 });
    if (weight === undefined) ok = false;
    else out[size] = weight;
  }
  if (!ok) return undefined;
  if (!Object.values(out).some((w) => w > 0)) return ctx.p.error(f.key, 'at least one size needs a weight greater than 0');
  return out;
}
