// Reads resource files into documents: YAML syntax, validation, spec hash and the
// status the controller last wrote. Pure parsing plus one folder scan; no writes.
import { createHash } from 'node:crypto';
import { readFileSync, statSync, type Dirent, type Stats } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { isScalar, parseAllDocuments, type Document, type YAMLError } from 'yaml';
import type { FieldProblem } from '../../api/problems.js';
import { validateResource, type ValidationResult } from '../api/validate.js';
import { isRecord } from '../../api/records.js';

export interface ParsedDoc {
  file: string;
  /** Position among ALL documents in the file, empty ones included, so it stays stable. */
  index: number;
  kind?: string;
  name?: string;
  /** `${kind}/${name}` when both are strings. */
  key?: string;
  /** Syntax errors of the whole file; path '' and message 'line L, column C: ...'. */
  yamlErrors: FieldProblem[];
  /** The document as plain JS, without status. */
  raw: unknown;
  validation: ValidationResult;
  /** sha256 hex of canonical JSON of spec and metadata.labels: what bumps the generation. */
  specHash?: string;
  status?: unknown;
}

export interface FileError {
  file: string;
  message: string;
}

export interface ScanResult {
  docs: ParsedDoc[];
  fileErrors: FileError[];
  /** With a cache: the files whose text differs from the cached one (new files included). */
  changed?: Set<string>;
}

type Loose = Record<string, unknown>;

/** JSON with keys sorted at every level, so equal data always hashes the same. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  if (isRecord(value)) {
    const keys = Object.keys(value)
      .filter((k) => value[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null) ?? 'null';
}

/** Hash of what the user asked for; metadata.name and status are deliberately left out. */
export function specHashOf(raw: unknown): string | undefined {
  if (!isRecord(raw)) return undefined;
  const labels = isRecord(raw.metadata) ? raw.metadata.labels : undefined;
  return createHash('sha256')
    .update(canonicalJson({ spec: raw.spec ?? null, labels: labels ?? null }))
    .digest('hex');
}

/** yaml's pretty messages end in ' at line L, column C:' plus a source excerpt; keep the first part. */
function yamlProblem(err: YAMLError): FieldProblem {
  const short = err.message.split(/ at line \d+, column \d+/)[0].trim();
  const pos = err.linePos?.[0];
  return { path: '', message: pos ? `line ${pos.line}, column ${pos.col}: ${short}` : short };
}

function identity(raw: unknown): { kind?: string; name?: string; key?: string } {
  if (!isRecord(raw)) return {};
  const kind = typeof raw.kind === 'string' ? raw.kind : undefined;
  const name = isRecord(raw.metadata) && typeof raw.metadata.name === 'string' ? raw.metadata.name : undefined;
  return { kind, name, key: kind !== undefined && name !== undefined ? `${kind}/${name}` : undefined };
}

function toPlain(doc: Document.Parsed): { raw: unknown; status?: unknown } {
  let js: unknown;
  try {
    js = doc.toJS({ maxAliasCount: 100 });
  } catch {
    // A broken document (or an alias bomb) has no usable data; its errors say why.
    return { raw: undefined };
  }
  if (!isRecord(js) || !('status' in js)) return { raw: js };
  const { status, ...rest } = js;
  return { raw: rest, status };
}

/** Documents with only comments carry no resource; they are skipped but still counted. */
function isEmptyDoc(doc: Document.Parsed): boolean {
  const c = doc.contents;
  // The parser represents "nothing here" as a null scalar with no source text; `~` or `null` is content.
  return doc.errors.length === 0 && (c === null || (isScalar(c) && c.value === null && !c.source && !c.tag && !c.anchor));
}

export function parseResourceText(text: string, file: string): ParsedDoc[] {
  const docs = parseAllDocuments(text);
  // An empty stream has no documents at all (and no errors): nothing to do.
  const list = Array.isArray(docs) ? docs : [];
  const errors = list.flatMap((d) => d.errors).map(yamlProblem);
  if (errors.length > 0) {
    const problems = errors.slice(0, 3).map((e) => ({
      path: '',
      message: `invalid YAML: ${e.message}; fix the syntax, the file is ignored until then`,
    }));
    const out = list
      .map((doc, index) => ({ doc, index }))
      .filter(({ doc }) => !isEmptyDoc(doc))
      .map(({ doc, index }): ParsedDoc => {
        const { raw, status } = toPlain(doc);
        const id = identity(raw);
        return { file, index, ...id, yamlErrors: errors, raw, validation: { ok: false, problems, kind: id.kind, name: id.name }, status };
      });
    // The file must surface even when the parser could not split it into documents.
    return out.length > 0 ? out : [{ file, index: 0, yamlErrors: errors, raw: undefined, validation: { ok: false, problems } }];
  }
  const out: ParsedDoc[] = [];
  list.forEach((doc, index) => {
    if (isEmptyDoc(doc)) return;
    const { raw, status } = toPlain(doc);
    const parsed: ParsedDoc = { file, index, ...identity(raw), yamlErrors: [], raw, validation: validateResource(raw), specHash: specHashOf(raw) };
    if (status !== undefined) parsed.status = status;
    out.push(parsed);
  });
  return out;
}

/** Files the store reads: *.yaml / *.yml, never hidden, backup (`~`) or temp files (ours included). */
export function isResourceFileName(name: string): boolean {
  return !name.startsWith('.') && !name.endsWith('~') && !name.endsWith('.tmp') && /\.ya?ml$/.test(name);
}

function readProblem(name: string, err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case 'EISDIR':
      return `cannot read ${name}: it is a directory; rename it so its name does not end in .yaml or .yml`;
    case 'EACCES':
    case 'EPERM':
      return `cannot read ${name}: permission denied; make it readable by the user running the controller (chmod u+r ${name})`;
    default:
      return `cannot read ${name}: ${err.message}`;
  }
}

/** Later documents that reuse a kind/name become invalid; the first in (file, index) order wins. */
export function markDuplicates(docs: ParsedDoc[]): ParsedDoc[] {
  const order = [...docs].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.index - b.index));
  const first = new Map<string, ParsedDoc>();
  const losers = new Map<ParsedDoc, ParsedDoc>();
  for (const doc of order) {
    if (!doc.validation.ok || !doc.key) continue;
    const winner = first.get(doc.key);
    if (winner) losers.set(doc, winner);
    else first.set(doc.key, doc);
  }
  return docs.map((doc) => {
    const winner = losers.get(doc);
    if (!winner) return doc;
    const message = `${doc.kind} "${doc.name}" is already defined in ${basename(winner.file)} (document ${winner.index + 1}); rename one of them`;
    return { ...doc, validation: { ok: false, kind: doc.kind, name: doc.name, problems: [{ path: 'metadata.name', message }] } };
  });
}

/** A file's text and what it parsed to, kept so an unchanged file is not parsed again at the next scan. */
export interface ParsedFile {
  text: string;
  docs: ParsedDoc[];
}

/** What a directory entry is when it is neither a file nor a directory (read directly, a named pipe would hang the controller). */
function specialKind(entry: Dirent, file: string): string | undefined {
  let kind: Dirent | Stats | undefined = entry;
  if (entry.isSymbolicLink()) kind = statSync(file, { throwIfNoEntry: false });
  if (kind === undefined) return undefined; // a dangling link: read as gone
  if (kind.isFIFO()) return 'a named pipe';
  if (kind.isSocket()) return 'a socket';
  if (kind.isCharacterDevice() || kind.isBlockDevice()) return 'a device';
  return undefined;
}

/** A file's text, or the error reading it gave. */
function readText(file: string): string | NodeJS.ErrnoException {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    return e as NodeJS.ErrnoException;
  }
}

/**
 * Files read between two turns of the event loop. Each is read synchronously
 * (open, stat, read, close: microseconds for a resource file): through the
 * thread pool, even in batches of 32, every read woke the loop four times, and
 * a resync of a thousand unchanged files took 31-57 ms of CPU and left 4 MB of
 * garbage on the 2-core machine; read here, 10-18 ms and 2 MB (issue 13, idle
 * CPU). Yielding after each slice keeps the status API answering during a scan
 * of thousands.
 */
const READ_SLICE = 100;

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Reads every resource file directly in `dir` (not recursive), in file-name order. */
export async function scanFolder(dir: string, cache?: Map<string, ParsedFile>): Promise<ScanResult> {
  const entries = (await readdir(dir, { withFileTypes: true })).filter((e) => isResourceFileName(e.name)).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const names = entries.map((e) => e.name);
  const docs: ParsedDoc[] = [];
  const fileErrors: FileError[] = [];
  const changed = new Set<string>();
  for (let i = 0; i < names.length; i++) {
    if (i > 0 && i % READ_SLICE === 0) await nextTurn();
    const name = names[i];
    const file = join(dir, name);
    const special = specialKind(entries[i], file);
    if (special !== undefined) {
      fileErrors.push({ file, message: `cannot read ${name}: it is ${special}, not a file; rename it so its name does not end in .yaml or .yml` });
      continue;
    }
    const text = readText(file);
    if (typeof text !== 'string') {
      // Deleted between readdir and read: it is simply gone, the watcher reports that.
      if (text.code === 'ENOENT') continue;
      fileErrors.push({ file, message: readProblem(name, text) });
      continue;
    }
    const known = cache?.get(file);
    const same = known?.text === text;
    const parsed = same ? known.docs : parseResourceText(text, file);
    if (!same) {
      changed.add(file);
      cache?.set(file, { text, docs: parsed });
    }
    docs.push(...parsed);
  }
  if (cache) {
    const present = new Set(names);
    for (const file of cache.keys()) if (!present.has(basename(file))) cache.delete(file);
  }
  return { docs: markDuplicates(docs), fileErrors, ...(cache ? { changed } : {}) };
}
