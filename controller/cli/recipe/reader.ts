// A view of one mapping of a recipe that remembers which keys were read, so
// every key the converter does not map surfaces as a warning, never a silent drop.
import { parseDuration } from '../../../api/units.js';

/** A problem or warning about one key of the recipe, e.g. `services[2].slurm.mem`. */
export interface RecipeProblem {
  key: string;
  message: string;
}

/** The recipe cannot be imported; every problem names its key and the fix. The warnings found on the way come along. */
export class RecipeError extends Error {
  constructor(
    readonly problems: RecipeProblem[],
    readonly warnings: RecipeProblem[] = [],
  ) {
    super(problems.map((p) => (p.key ? `${p.key}: ${p.message}` : p.message)).join('; '));
    this.name = 'RecipeError';
  }
}

/** Errors and warnings of one conversion, collected so the user sees all of them at once. */
export class Problems {
  readonly errors: RecipeProblem[] = [];
  private readonly warned = new Map<string, RecipeProblem>();

  error(key: string, message: string): undefined {
    this.errors.push({ key, message });
    return undefined;
  }

  /** A key that appears once per service (a global default) is warned about once. */
  warn(key: string, message: string): void {
    const id = `${key}\0${message}`;
    if (!this.warned.has(id)) this.warned.set(id, { key, message });
  }

  get warnings(): RecipeProblem[] {
    return [...this.warned.values()];
  }
}

export interface Field {
  /** Where it is in the recipe: `services[0].port`, or `global.slurm.account` for a default. */
  key: string;
  value: unknown;
}

export type Mapping = Record<string, unknown>;
export const isMapping = (v: unknown): v is Mapping => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * One mapping of the recipe (a service entry, its slurm block, `global`...).
 * `defaults` is the same place in `global:`: a key the section lacks is read
 * there, and that key counts as used in `global` too.
 */
export class Section {
  private readonly taken = new Set<string>();
  private readonly children = new Map<string, Section | undefined>();

  constructor(
    readonly key: string,
    private readonly raw: Mapping,
    private readonly defaults?: Section,
  ) {}

  keyOf(name: string): string {
    return this.key ? `${this.key}.${name}` : name;
  }

  /** Set here, not inherited. */
  hasOwn(name: string): boolean {
    return Object.hasOwn(this.raw, name) && this.raw[name] !== undefined;
  }

  has(name: string): boolean {
    return this.hasOwn(name) || (this.defaults?.has(name) ?? false);
  }

  /** Reads a key (its own, else the default) and marks it used. A YAML `null` counts as unset. */
  take(name: string): Field | undefined {
    if (this.hasOwn(name)) {
      this.taken.add(name);
      if (this.raw[name] === null) return undefined;
      return { key: this.keyOf(name), value: this.raw[name] };
    }
    return this.defaults?.take(name);
  }

  /** The first of several spellings that is set (`ntasks-per-node`, `ntasks_per_node`). */
  takeAny(names: readonly string[]): Field | undefined {
    let found: Field | undefined;
    for (const n of names) {
      const f = this.take(n);
      if (f && !found) found = f;
    }
    return found;
  }

  /** Marks a key used without reading it (it was handled as part of another). */
  consume(name: string): void {
    if (this.hasOwn(name)) this.taken.add(name);
    else this.defaults?.consume(name);
  }

  /** A nested mapping merged key by key with the same mapping in `global:`. */
  section(name: string, problems: Problems): Section | undefined {
    if (this.children.has(name)) return this.children.get(name);
    const inherited = this.defaults?.section(name, problems);
    let child: Section | undefined = inherited;
    if (this.hasOwn(name)) {
      this.taken.add(name);
      const value = this.raw[name];
      if (value !== null) {
        if (isMapping(value)) child = new Section(this.keyOf(name), value, inherited);
        else problems.error(this.keyOf(name), `must be a mapping of keys to values (${describe(value)} given)`);
      }
    }
    this.children.set(name, child);
    return child;
  }

  /** Own keys nobody read, with those of its nested sections unless `nested` is false. */
  leftovers(nested = true): Field[] {
    const own = Object.keys(this.raw)
      .filter((k) => !this.taken.has(k))
      .map((k) => ({ key: this.keyOf(k), value: this.raw[k] }));
    if (!nested) return own;
    // An inherited child is global's own section: global reports its leftovers.
    const inner = [...this.children.entries()].flatMap(([name, child]) => (child && child.key === this.keyOf(name) ? child.leftovers() : []));
    return [...own, ...inner];
  }

  /** Every key set here or inherited from `global:`. */
  names(): string[] {
    return [...new Set([...Object.keys(this.raw), ...(this.defaults?.names() ?? [])])];
  }
}

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return `${typeof value} ${JSON.stringify(value)}`;
}

// Typed readers: each returns undefined (after recording an error naming the key) when the value has the wrong shape.

export function str(f: Field | undefined, p: Problems): string | undefined {
  if (!f) return undefined;
  if (typeof f.value === 'string') return f.value.trim() === '' ? p.error(f.key, 'is empty; give a value or remove the key') : f.value;
  if (typeof f.value === 'number' || typeof f.value === 'boolean') return String(f.value);
  return p.error(f.key, `must be a text value (${describe(f.value)} given)`);
}

export function num(f: Field | undefined, p: Problems, opts: { positive?: boolean; integer?: boolean; min?: number; max?: number } = {}): number | undefined {
  if (!f) return undefined;
  const n = typeof f.value === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(f.value) ? Number(f.value) : f.value;
  if (typeof n !== 'number' || !Number.isFinite(n)) return p.error(f.key, `must be a number (${describe(f.value)} given)`);
  if (opts.integer && !Number.isInteger(n)) return p.error(f.key, `must be a whole number, got ${n}`);
  if (opts.positive && n <= 0) return p.error(f.key, `must be greater than 0, got ${n}`);
  if (opts.min !== undefined && n < opts.min) return p.error(f.key, `must be at least ${opts.min}, got ${n}`);
  if (opts.max !== undefined && n > opts.max) return p.error(f.key, `must be at most ${opts.max}, got ${n}`);
  return n;
}

export function bool(f: Field | undefined, p: Problems): boolean | undefined {
  if (!f) return undefined;
  if (typeof f.value === 'boolean') return f.value;
  if (typeof f.value === 'string' && /^(true|false|yes|no)$/i.test(f.value)) return /^(true|yes)$/i.test(f.value);
  return p.error(f.key, `must be true or false (${describe(f.value)} given)`);
}

/** Seconds as the Python framework took them (`300`), or aifb's units (`5m`); milliseconds out. */
export function durationMs(f: Field | undefined, p: Problems): number | undefined {
  if (!f) return undefined;
  if (typeof f.value !== 'number' && typeof f.value !== 'string') return p.error(f.key, `must be a duration in seconds (300) or with a unit (5m) (${describe(f.value)} given)`);
  try {
    const ms = parseDuration(f.value);
    return ms > 0 ? ms : p.error(f.key, 'must be longer than 0 seconds');
  } catch (e) {
    return p.error(f.key, (e as Error).message);
  }
}

/** `300000` ms -> `5m`, `90000` -> `90s`: exact, never rounded. */
export function durationText(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

/** Edit distance, for "did you mean" hints on misspelt keys. */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const here = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = here;
    }
  }
  return row[b.length];
}

const squash = (s: string) => s.toLowerCase().replace(/[-_\s]/g, '');

/** ` (did you mean client_count?)` for `clients_count`, or '' when nothing is close. */
export function didYouMean(name: string, known: readonly string[]): string {
  let best: string | undefined;
  let bestD = Infinity;
  for (const k of known) {
    if (k === name) continue;
    const d = squash(k) === squash(name) ? 0 : distance(name.toLowerCase(), k.toLowerCase());
    if (d < bestD) {
      best = k;
      bestD = d;
    }
  }
  return best !== undefined && bestD <= Math.max(1, Math.floor(name.length / 4)) ? ` (did you mean ${best}?)` : '';
}
