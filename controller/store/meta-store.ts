// Per-resource metadata the user never edits (uid, generation, spec hash, events),
// one JSON file per resource in the state folder, cached in memory, written atomically.
import { randomUUID } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomicSync } from '../runtime/atomic-write.js';
import { CoalescingWriter } from '../runtime/coalescing-writer.js';
import type { ResourceEvent } from '../server/view.js';

/** A stored event; `count` appears once the same event repeated back to back. */
export interface StoredEvent extends ResourceEvent {
  count?: number;
}

export interface ResourceMeta {
  key: string;
  uid: string;
  /** 1 on first sight, +1 on every spec change; 0 until the resource was first seen valid. */
  generation: number;
  specHash: string;
  createdAt: string;
  events: StoredEvent[];
}

export interface NewEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
  time?: string;
}

export interface MetaStoreOptions {
  /** Read only (aifbctl without a controller): no folders created, nothing moved or written. */
  readOnly?: boolean;
  now?: () => Date;
  log?: (line: string) => void;
}

export const MAX_EVENTS = 100;

/** `Benchmark/vllm-load` -> `Benchmark.vllm-load.json`; anything odd in a part is percent-encoded. */
export function metaFileName(key: string): string {
  const enc = (part: string) => encodeURIComponent(part).replace(/\./g, '%2E').replace(/\*/g, '%2A');
  return `${key.split('/').map(enc).join('.')}.json`;
}

function isMeta(v: unknown): v is ResourceMeta {
  if (v === null || typeof v !== 'object') return false;
  const m = v as Record<string, unknown>;
  return (
    typeof m.key === 'string' &&
    typeof m.uid === 'string' &&
    typeof m.generation === 'number' &&
    typeof m.specHash === 'string' &&
    typeof m.createdAt === 'string' &&
    Array.isArray(m.events)
  );
}

const copy = (m: ResourceMeta): ResourceMeta => ({ ...m, events: m.events.map((e) => ({ ...e })) });

export class MetaStore {
  readonly dir: string;
  /** Problems found while loading (corrupt files moved aside), for the caller to show. */
  readonly warnings: string[] = [];
  private readonly cache = new Map<string, ResourceMeta>();
  private readonly now: () => Date;
  private readonly readOnly: boolean;
  private readonly events = new CoalescingWriter();

  constructor(stateDir: string, opts: MetaStoreOptions = {}) {
    this.dir = join(stateDir, 'resources');
    this.now = opts.now ?? (() => new Date());
    this.readOnly = opts.readOnly ?? false;
    if (!this.readOnly) mkdirSync(this.dir, { recursive: true });
    this.load();
    for (const w of this.warnings) (opts.log ?? ((line: string) => console.warn(line)))(w);
  }

  private load(): void {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw e;
    }
    for (const name of names.sort()) {
      const path = join(this.dir, name);
      if (/\.json\.\d+$/.test(name)) {
        // Left behind by a crash between write and rename; the real file is intact.
        if (!this.readOnly) this.unlinkQuietly(path);
        continue;
      }
      if (!name.endsWith('.json')) continue;
      let meta: unknown;
      try {
        meta = JSON.parse(readFileSync(path, 'utf8'));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EISDIR') continue;
        meta = undefined;
      }
      if (!isMeta(meta)) {
        this.setAside(path, name);
        continue;
      }
      this.cache.set(meta.key, meta);
    }
  }

  private setAside(path: string, name: string): void {
    if (this.readOnly) {
      this.warnings.push(`Ignored corrupt resource metadata  file=${path}`);
      return;
    }
    const aside = `${path}.corrupt`;
    try {
      renameSync(path, aside);
      this.warnings.push(`Moved corrupt resource metadata aside  file=${aside}  (uid and generation for ${name} start afresh)`);
    } catch (e) {
      this.warnings.push(`Ignored corrupt resource metadata  file=${path}  error=${(e as Error).message}`);
    }
  }

  private unlinkQuietly(path: string): void {
    try {
      unlinkSync(path);
    } catch {
      /* already gone */
    }
  }

  /** A new uid or generation: written now and durably, as adoption after a crash depends on it. */
  private persist(meta: ResourceMeta): void {
    if (this.readOnly) return;
    const path = join(this.dir, metaFileName(meta.key));
    this.events.cancel(path);
    writeFileAtomicSync(path, `${JSON.stringify(meta, null, 2)}\n`, { mode: 0o640, fsync: true });
  }

  /** Writes pending event lists now (at shutdown). */
  flush(): void {
    this.events.flush();
  }

  get(key: string): ResourceMeta | undefined {
    const m = this.cache.get(key);
    return m ? copy(m) : undefined;
  }

  keys(): string[] {
    return [...this.cache.keys()].sort();
  }

  /** Records that the resource was seen with this spec: a new uid on first sight, +1 generation on change. */
  observe(key: string, specHash: string, now: Date = this.now()): ResourceMeta {
    const existing = this.cache.get(key);
    if (existing && existing.specHash === specHash) return copy(existing);
    const meta: ResourceMeta = existing
      ? { ...existing, generation: existing.generation + 1, specHash }
      : { key, uid: randomUUID(), generation: 1, specHash, createdAt: now.toISOString(), events: [] };
    this.cache.set(key, meta);
    this.persist(meta);
    return copy(meta);
  }

  /** Appends an event; a repeat of the last one (same reason and message) bumps its count and time instead. */
  addEvent(key: string, ev: NewEvent): void {
    const time = ev.time ?? this.now().toISOString();
    // Events may come before the resource was ever valid: keep them under a generation-0 record.
    const base = this.cache.get(key) ?? { key, uid: randomUUID(), generation: 0, specHash: '', createdAt: time, events: [] };
    const events = base.events.map((e) => ({ ...e }));
    const last = events[events.length - 1];
    if (last && last.reason === ev.reason && last.message === ev.message) {
      last.time = time;
      last.count = (last.count ?? 1) + 1;
    } else {
      events.push({ time, type: ev.type, reason: ev.reason, message: ev.message });
      if (events.length > MAX_EVENTS) events.splice(0, events.length - MAX_EVENTS);
    }
    const meta = { ...base, events };
    this.cache.set(key, meta);
    // Events are for people: many arrive at once, and the last of a burst lost to a crash costs nothing.
    if (!this.readOnly) this.events.schedule(join(this.dir, metaFileName(key)), () => `${JSON.stringify(this.cache.get(key) ?? meta, null, 2)}\n`);
    this.cache.set(key, meta);
  }

  remove(key: string): void {
    this.cache.delete(key);
    this.events.cancel(join(this.dir, metaFileName(key)));
    if (!this.readOnly) this.unlinkQuietly(join(this.dir, metaFileName(key)));
  }
}
