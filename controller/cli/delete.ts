// `aifbctl delete KIND NAME...` and `delete -f FILE`: removes resource files from
// the watched folder; never rewrites a file that holds other documents too.
import { readFile, unlink } from 'node:fs/promises';
import path from 'node:path';
import { KINDS } from '../api/schemas.js';
import { parseResourceText, type ParsedDoc } from '../store/parse.js';
import { errorMessage, type IO } from './context.js';
import { readFolder } from './folder.js';
import { kindFromArg, unknownKindMessage } from './kinds.js';

export interface DeleteOptions {
  resourcesDir: string;
  kind?: string;
  names?: string[];
  /** Delete what these files define (by kind/name), wherever in the folder it lives. */
  files?: string[];
}

interface Target {
  kind: string;
  name: string;
}

const keyOf = (t: Target) => `${t.kind}/${t.name}`;
const quoted = (t: Target) => `${t.kind.toLowerCase()} "${t.name}"`;

async function targetsFromFiles(files: string[], io: IO): Promise<Target[] | undefined> {
  const targets: Target[] = [];
  for (const file of files) {
    let docs: ParsedDoc[];
    try {
      docs = parseResourceText(await readFile(file, 'utf8'), file);
    } catch (e) {
      io.stderr(`Error: cannot read ${file}: ${errorMessage(e)}\n`);
      return undefined;
    }
    const named = docs.filter((d) => d.kind !== undefined && d.name !== undefined && (KINDS as readonly string[]).includes(d.kind));
    if (named.length === 0) {
      io.stderr(`Error: ${file} defines no resource with a kind and metadata.name, so there is nothing to delete\n`);
      return undefined;
    }
    targets.push(...named.map((d) => ({ kind: d.kind!, name: d.name! })));
  }
  return targets;
}

export async function runDelete(opts: DeleteOptions, io: IO): Promise<number> {
  let targets: Target[];
  if (opts.files?.length) {
    if (opts.kind || opts.names?.length) {
      io.stderr('Error: give either -f FILE or TYPE NAME, not both\n');
      return 1;
    }
    const fromFiles = await targetsFromFiles(opts.files, io);
    if (!fromFiles) return 1;
    targets = fromFiles;
  } else {
    if (!opts.kind || !opts.names?.length) {
      io.stderr('Error: say what to delete: aifbctl delete TYPE NAME (e.g. delete benchmark vllm-load) or aifbctl delete -f FILE\n');
      return 1;
    }
    const kind = kindFromArg(opts.kind);
    if (!kind) {
      io.stderr(`Error: ${unknownKindMessage(opts.kind)}\n`);
      return 1;
    }
    targets = opts.names.map((name) => ({ kind, name }));
  }

  let folder: ParsedDoc[];
  try {
    folder = await readFolder(opts.resourcesDir);
  } catch (e) {
    io.stderr(`Error: cannot read the resources folder ${opts.resourcesDir}: ${errorMessage(e)}\n`);
    return 1;
  }

  let failed = false;
  const wanted = new Set(targets.map(keyOf));
  // Files that hold at least one target, with every document they hold.
  const byFile = new Map<string, ParsedDoc[]>();
  for (const d of folder) byFile.set(d.file, [...(byFile.get(d.file) ?? []), d]);

  for (const t of targets) {
    if (!folder.some((d) => d.key === keyOf(t))) {
      io.stderr(`Error: ${quoted(t)} not found in ${opts.resourcesDir}\n`);
      failed = true;
    }
  }
  for (const [file, docs] of byFile) {
    const hits = docs.filter((d) => d.key !== undefined && wanted.has(d.key));
    if (hits.length === 0) continue;
    const others = docs.length - hits.length;
    if (others > 0) {
      for (const h of hits) {
        io.stderr(
          `Error: ${quoted({ kind: h.kind!, name: h.name! })} is document ${h.index + 1} of ${file}, which holds ${others} other document(s); ` +
            `aifbctl does not rewrite multi-document files: remove that document from ${path.basename(file)} by hand\n`,
        );
      }
      failed = true;
      continue;
    }
    try {
      await unlink(file);
    } catch (e) {
      io.stderr(`Error: cannot delete ${file}: ${errorMessage(e)}\n`);
      failed = true;
      continue;
    }
    for (const h of hits) io.stdout(`${quoted({ kind: h.kind!, name: h.name! })} deleted\n`);
  }
  return failed ? 1 : 0;
}
