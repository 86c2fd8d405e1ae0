// `aifbctl get`: lists resources as an aligned table, wide table, JSON or YAML,
// and with --watch re-polls and reprints the rows that changed.
import { setTimeout as sleepTimer } from 'node:timers/promises';
import { stringify } from 'yaml';
import { API_VERSION, type Kind } from '../api/schemas.js';
import type { ResourceView } from '../server/view.js';
import { tableFor, type Table } from './columns.js';
import { errorMessage, type Globals, type IO } from './context.js';
import { columnWidths, renderRow, renderTable } from './format.js';
import { kindFromArg, unknownKindMessage } from './kinds.js';
import { openSource, type OpenedSource } from './source.js';

export const OUTPUT_FORMATS = ['table', 'wide', 'json', 'yaml'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** Order of sections in `get all`: what users benchmark first, then what it needs. */
const ALL_KINDS: Kind[] = ['Benchmark', 'Service', 'MonitoringStack'];

export interface GetOptions extends Globals {
  /** `benchmarks`, `services`, `monitoringstacks` (or a short name), or `all`. */
  kind: string;
  name?: string;
  output?: OutputFormat;
  watch?: boolean;
  intervalMs?: number;
  /** Stops a watch (SIGINT in the process; a test's AbortController otherwise). */
  signal?: AbortSignal;
  /** Stops a watch after this many polls; for tests. */
  maxIterations?: number;
  now?: () => number;
  /** Replaces the API-or-disk choice; tests pass a fake source. */
  open?: () => Promise<OpenedSource>;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

interface Section {
  kind: Kind;
  views: ResourceView[];
}

const byName = (a: ResourceView, b: ResourceView) => a.metadata.name.localeCompare(b.metadata.name);

async function fetchSections(src: OpenedSource, kinds: Kind[], name: string | undefined): Promise<Section[]> {
  const sections: Section[] = [];
  for (const kind of kinds) {
    if (name !== undefined) {
      const view = await src.source.get(kind, name);
      sections.push({ kind, views: view ? [view] : [] });
    } else {
      sections.push({ kind, views: [...(await src.source.list(kind))].sort(byName) });
    }
  }
  return sections;
}

/** A single named object prints bare; anything else prints as a List, like kubectl. */
export function documentFor(sections: Section[], single: boolean): unknown {
  const items = sections.flatMap((s) => s.views);
  if (single && items.length === 1) return items[0];
  const kind = sections.length === 1 ? `${sections[0]!.kind}List` : 'List';
  return { apiVersion: API_VERSION, kind, items };
}

export function serialize(doc: unknown, format: 'json' | 'yaml'): string {
  return format === 'json' ? JSON.stringify(doc, null, 2) + '\n' : stringify(doc);
}

const defaultSleep = async (ms: number, signal?: AbortSignal): Promise<void> => {
  try {
    await sleepTimer(ms, undefined, { signal });
  } catch {
    // Aborted: the caller checks the signal and stops.
  }
};

function tables(sections: Section[], output: OutputFormat, now: number, kindPrefix: boolean): { kind: Kind; table: Table; views: ResourceView[] }[] {
  return sections
    .filter((s) => s.views.length > 0)
    .map((s) => ({ kind: s.kind, views: s.views, table: tableFor(s.kind, s.views, { wide: output === 'wide', now, kindPrefix }) }));
}

export async function runGet(opts: GetOptions, io: IO): Promise<number> {
  const output = opts.output ?? 'table';
  if (!(OUTPUT_FORMATS as readonly string[]).includes(output)) {
    io.stderr(`Error: unknown output format "${output}"; use one of ${OUTPUT_FORMATS.join(', ')}\n`);
    return 1;
  }
  const isAll = opts.kind.toLowerCase() === 'all';
  const kind = isAll ? undefined : kindFromArg(opts.kind);
  if (!isAll && !kind) {
    io.stderr(`Error: ${unknownKindMessage(opts.kind, true)}\n`);
    return 1;
  }
  if (isAll && opts.name !== undefined) {
    io.stderr('Error: a name cannot be given with "all"; name a type, e.g. aifbctl get benchmarks NAME\n');
    return 1;
  }
  const kinds = kind ? [kind] : ALL_KINDS;
  const now = opts.now ?? Date.now;
  const open = opts.open ?? (() => openSource(opts));
  const sleep = opts.sleep ?? defaultSleep;

  let sections: Section[];
  let src: OpenedSource;
  try {
    src = await open();
    sections = await fetchSections(src, kinds, opts.name);
  } catch (e) {
    io.stderr(`Error: ${errorMessage(e)}\n`);
    return 1;
  }
  if (opts.name !== undefined && sections.every((s) => s.views.length === 0)) {
    io.stderr(`Error: ${kind!.toLowerCase()} "${opts.name}" not found\n`);
    return 1;
  }

  // What each printed row showed, keyed by kind/name, so a watch reprints a row
  // only when its resource changed (not merely because its AGE ticked).
  const printed = new Map<string, string>();
  const widths = new Map<Kind, number[]>();
  const structured = output === 'json' || output === 'yaml';
  const changed = (v: ResourceView): boolean => {
    const text = JSON.stringify(v);
    if (printed.get(keyOf(v)) === text) return false;
    printed.set(keyOf(v), text);
    return true;
  };

  if (structured) {
    if (opts.watch) {
      for (const v of sections.flatMap((s) => s.views)) {
        printed.set(keyOf(v), JSON.stringify(v));
        io.stdout(watchDoc(v, output));
      }
    } else {
      io.stdout(serialize(documentFor(sections, opts.name !== undefined), output));
    }
  } else {
    if (!opts.watch) {
      // Broken files would otherwise vanish from the list without a word.
      for (const p of await src.problems().catch(() => [])) io.stderr(`Warning: ${p.file}: ${p.message}\n`);
    }
    const ts = tables(sections, output, now(), isAll);
    if (ts.length === 0) io.stderr('No resources found.\n');
    ts.forEach((t, i) => {
      if (i > 0) io.stdout('\n');
      io.stdout(renderTable(t.table.header, t.table.rows));
      const w = columnWidths(t.table.header, t.table.rows);
      widths.set(t.kind, w);
      for (const v of t.views) printed.set(keyOf(v), JSON.stringify(v));
    });
  }
  if (!opts.watch) return 0;

  const intervalMs = opts.intervalMs ?? 2_000;
  for (let iteration = 1; opts.maxIterations === undefined || iteration < opts.maxIterations; iteration++) {
    if (opts.signal?.aborted) break;
    await sleep(intervalMs, opts.signal);
    if (opts.signal?.aborted) break;
    try {
      // Reopen each poll: the controller may have started or stopped meanwhile.
      sections = await fetchSections(await open(), kinds, opts.name);
    } catch (e) {
      io.stderr(`Error: ${errorMessage(e)}\n`);
      continue;
    }
    if (structured) {
      for (const v of sections.flatMap((s) => s.views)) if (changed(v)) io.stdout(watchDoc(v, output));
      continue;
    }
    for (const t of tables(sections, output, now(), isAll)) {
      let w = widths.get(t.kind);
      if (!w) {
        // First rows of this kind during the watch: they need their own header.
        w = columnWidths(t.table.header, t.table.rows);
        widths.set(t.kind, w);
        io.stdout(renderRow(t.table.header, w) + '\n');
      }
      t.views.forEach((v, j) => {
        if (changed(v)) io.stdout(renderRow(t.table.rows[j]!, w) + '\n');
      });
    }
  }
  return 0;
}

const keyOf = (v: ResourceView): string => `${v.kind}/${v.metadata.name}`;

function watchDoc(view: ResourceView, format: 'json' | 'yaml'): string {
  return format === 'json' ? JSON.stringify(view, null, 2) + '\n' : `---\n${stringify(view)}`;
}
