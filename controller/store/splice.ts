// Computes a resource file's new text with one document's status block replaced,
// inserted or removed, by splicing source text so every other byte stays as written.
import { basename } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { isCollection, isMap, isPair, isScalar, parse, parseAllDocuments, stringify, type Document, type Pair } from 'yaml';
import { StoreError } from './errors.js';

export interface DocRef {
  kind: string;
  name: string;
  /** Where the document was last seen; verified by kind and name before use. */
  index: number;
}

/**
 * What a splice learnt of the text it made: where the status block sits and
 * every document's data. The next status write into that same text (the
 * controller's own last write: by far the common case) parses only its
 * result, about half the CPU of a write that starts from the text.
 */
export interface SpliceMemo {
  text: string;
  kind: string;
  name: string;
  index: number;
  /** Where the status key starts, and the end of the last line of its block. */
  start: number;
  end: number;
  /** Every document's data, as verify compares it. */
  plain: unknown[];
}

export type SpliceResult = { found: false } | { found: true; index: number; text: string; memo?: SpliceMemo };

function yamlErrorsOf(docs: Document.Parsed[]): string | undefined {
  const err = docs.flatMap((d) => d.errors)[0];
  if (!err) return undefined;
  const pos = err.linePos?.[0];
  const short = err.message.split(/ at line \d+, column \d+/)[0].trim();
  return pos ? `line ${pos.line}, column ${pos.col}: ${short}` : short;
}

/** Plain data of a document, or a marker when it cannot be built (alias bomb): then nothing compares equal. */
function plain(doc: Document.Parsed): unknown {
  try {
    return doc.toJS({ maxAliasCount: 100 });
  } catch {
    return Symbol('unreadable');
  }
}

function matches(doc: Document.Parsed, ref: DocRef): boolean {
  if (!isMap(doc.contents)) return false;
  return doc.get('kind') === ref.kind && doc.getIn(['metadata', 'name']) === ref.name;
}

/** Where the line holding pos starts; a byte-order mark before the first line is not part of its indentation. */
const lineStartOf = (text: string, pos: number): number => {
  const start = text.lastIndexOf('\n', pos - 1) + 1;
  return start === 0 && text.charCodeAt(0) === 0xfeff ? 1 : start;
};

/** Position just past the newline ending the line that `pos` is on (or EOF); `pos` itself if at a line start. */
function endOfLine(text: string, pos: number): number {
  if (pos > 0 && text[pos - 1] === '\n') return pos;
  const nl = text.indexOf('\n', pos);
  return nl === -1 ? text.length : nl + 1;
}

/** `status:` and its value as YAML, each line after the first indented to sit under the key's column. */
function render(status: Record<string, unknown>, indent: string): string[] {
  const lines = stringify({ status }, { lineWidth: 0 }).replace(/\n$/, '').split('\n');
  return lines.map((l, i) => (i === 0 || l === '' ? l : indent + l));
}

function statusPairOf(items: Pair[]): Pair | undefined {
  return items.find((p) => isScalar(p.key) && p.key.value === 'status');
}

type Ranged = { range?: [number, number, number] | null };

/**
 * Offset just past the last character of real content under `node`. Node ranges of block
 * collections stretch over trailing comments (even column-0 ones meant for the next document),
 * so descend to the leaves, whose ends are exact; block scalars end after their last line.
 */
function contentEnd(node: unknown): number {
  if (isPair(node)) return Math.max(contentEnd(node.key), contentEnd(node.value));
  if (isCollection(node) && !node.flow) return node.items.reduce<number>((max, item) => Math.max(max, contentEnd(item)), 0);
  return (node as Ranged | null)?.range?.[1] ?? 0;
}

/**
 * Where a new status block goes: after the last top-level value and after any comments indented
 * under it (a commented-out spec line belongs to the spec), but before blank lines and comments at
 * the top level, which usually introduce whatever comes next.
 */
function insertionPoint(text: string, last: Pair, mapIndent: number, docEnd: number): number {
  let pos = endOfLine(text, contentEnd(last));
  let cursor = pos;
  while (cursor < docEnd && cursor < text.length) {
    const nl = text.indexOf('\n', cursor);
    const lineEnd = nl === -1 ? text.length : nl + 1;
    const line = text.slice(cursor, lineEnd).replace(/\r?\n$/, '');
    cursor = lineEnd;
    if (line.trim() === '') continue;
    const indent = line.length - line.trimStart().length;
    if (!line.trimStart().startsWith('#') || indent <= mapIndent) break;
    pos = lineEnd;
  }
  return pos;
}

/**
 * Returns the text with document `ref`'s top-level status set to `status` (removed when undefined).
 * Throws StoreError when the file has YAML errors or a shape whose status cannot be spliced safely.
 */
export function spliceStatus(text: string, file: string, ref: DocRef, status: Record<string, unknown> | undefined, memo?: SpliceMemo): SpliceResult {
  if (status !== undefined && memo?.text === text && memo.kind === ref.kind && memo.name === ref.name && memo.index === ref.index) {
    // The same splice as below, with the status block's place known rather than parsed for.
    const next = replaceBlock(text, memo.start, memo.end, status);
    return { found: true, index: memo.index, text: next, memo: verify(memo.plain, next, memo.index, ref, status, file) };
  }
  const name = basename(file);
  const docs = parseAllDocuments(text) as Document.Parsed[];
  const syntax = yamlErrorsOf(docs);
  if (syntax) throw new StoreError(`${name} has invalid YAML (${syntax}); status not written, fix the syntax first`, file);

  let index = ref.index;
  if (!(docs[index] && matches(docs[index], ref))) index = docs.findIndex((d) => matches(d, ref));
  if (index < 0) return { found: false };
  const doc = docs[index];
  const map = doc.contents;
  if (!isMap(map) || map.flow) {
    throw new StoreError(
      `${name} document ${index + 1} (${ref.kind} "${ref.name}") is a flow mapping ({...}); write it as a block mapping (one key per line) so the controller can write its status`,
      file,
    );
  }
  const eol = eolOf(text);
  const items = map.items as Pair[];
  const pair = statusPairOf(items);
  let next: string;

  if (pair) {
    const keyRange = (pair.key as { range: [number, number, number] }).range;
    const keyStart = keyRange[0];
    const end = blockEnd(text, pair);
    const lineStart = lineStartOf(text, keyStart);
    const before = text.slice(lineStart, keyStart);
    const indentOnly = /^[ \t]*$/.test(before);
    if (status === undefined) {
      next = text.slice(0, indentOnly ? lineStart : keyStart) + text.slice(end);
    } else {
      next = replaceBlock(text, keyStart, end, status);
    }
  } else {
    if (status === undefined) return { found: true, index, text };
    const firstKey = (items[0].key as { range: [number, number, number] }).range[0];
    const mapIndent = firstKey - lineStartOf(text, firstKey);
    const docEnd = doc.range[2];
    const pos = insertionPoint(text, items[items.length - 1], mapIndent, docEnd);
    const indent = ' '.repeat(mapIndent);
    const lines = render(status, indent).map((l, i) => (i === 0 ? indent + l : l));
    // A file without a final newline keeps that shape: the block becomes its last line instead.
    const atEofNoNewline = pos === text.length && text.length > 0 && !text.endsWith('\n');
    const block = atEofNoNewline ? eol + lines.join(eol) : lines.join(eol) + eol;
    next = text.slice(0, pos) + block + text.slice(pos);
  }

  return { found: true, index, text: next, memo: verify(docs.map(plain), next, index, ref, status, file) };
}

const eolOf = (text: string): string => (text.includes('\r\n') ? '\r\n' : '\n');

/** The text with the status block from its key (start) to the end of its last line (end) replaced by `status`. */
function replaceBlock(text: string, start: number, end: number, status: Record<string, unknown>): string {
  const eol = eolOf(text);
  const block = render(status, ' '.repeat(start - lineStartOf(text, start))).join(eol) + (text[end - 1] === '\n' ? eol : '');
  return text.slice(0, start) + block + text.slice(end);
}

/** Whole lines up to the last line with status content; comments after it are the user's and stay. */
function blockEnd(text: string, pair: Pair): number {
  return endOfLine(text, Math.max((pair.key as Ranged).range![1], contentEnd(pair.value)));
}

/**
 * The splice must change exactly one thing: the target document's status. Checking the reparsed
 * result costs one parse and turns any surprise in an unusual file into an error instead of lost data.
 * Returns what the next splice into the result needs (none when the status was removed).
 */
function verify(oldPlain: unknown[], after: string, index: number, ref: DocRef, status: Record<string, unknown> | undefined, file: string): SpliceMemo | undefined {
  const newDocs = parseAllDocuments(after) as Document.Parsed[];
  const fail = (why: string): never => {
    throw new StoreError(`${basename(file)}: status not written because the edit would have ${why}; the file is unchanged (please report this with the file)`, file);
  };
  if (yamlErrorsOf(newDocs)) fail('made the YAML invalid');
  if (newDocs.length !== oldPlain.length) fail('changed the number of documents');
  const strip = (v: unknown): unknown => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
    const { status: _status, ...rest } = v as Record<string, unknown>;
    return rest;
  };
  const newPlain = newDocs.map(plain);
  for (let i = 0; i < oldPlain.length; i++) {
    const a = oldPlain[i];
    const b = newPlain[i];
    if (i !== index) {
      if (!isDeepStrictEqual(a, b)) fail(`changed document ${i + 1}`);
      continue;
    }
    if (!isDeepStrictEqual(strip(a), strip(b))) fail('changed fields other than status');
    if (!sameStatus((b as Record<string, unknown>).status, status)) fail('written a different status');
  }
  const doc = newDocs[index];
  const pair = isMap(doc.contents) ? statusPairOf(doc.contents.items as Pair[]) : undefined;
  if (!pair) return undefined;
  const start = (pair.key as Ranged).range![0];
  return { text: after, kind: ref.kind, name: ref.name, index, start, end: blockEnd(after, pair), plain: newPlain };
}

/**
 * Whether the status read back is the one meant: as JSON carries it (what the
 * controller's statuses are), or failing that as YAML itself round-trips it
 * (-0, say, which JSON turns into 0). JSON first: a YAML round trip costs
 * more than the parse of the whole file.
 */
function sameStatus(got: unknown, status: Record<string, unknown> | undefined): boolean {
  if (status === undefined) return got === undefined;
  let json: unknown;
  try {
    json = JSON.parse(JSON.stringify(status));
  } catch {
    json = undefined; // not JSON (a BigInt): YAML's round trip decides
  }
  if (json !== undefined && isDeepStrictEqual(got, json)) return true;
  return isDeepStrictEqual(got, (parse(stringify({ status })) as { status: unknown }).status);
}
