// The controller's handle on the resources folder: scans it and writes status, and
// remembers what it wrote so the watcher can ignore the events of its own writes.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { canonicalJson, scanFolder, type ParsedDoc, type ParsedFile, type ScanResult } from './parse.js';
import { writeStatus, type SpliceMemo, type WriteOutcome, type WriteStatusOptions } from './status-writer.js';

export interface FileStoreOptions extends Pick<WriteStatusOptions, 'beforeRename'> {
  resourcesDir: string;
  /**
   * A status write found the file with a text neither the last scan nor this store had: someone
   * edited it, and the event of that edit may be taken for our write once ours lands. Scan again.
   */
  onForeignText?: (file: string) => void;
}

/** What a scan found: `changed` holds the files whose documents may need a reconcile. */
export interface StoreScan extends ScanResult {
  changed: Set<string>;
}

/** Everything a reconcile reads of a document except its status. */
const fingerprint = (d: ParsedDoc): string =>
  `${d.index}\0${d.key ?? ''}\0${d.validation.ok}\0${d.yamlErrors.length}\0${d.specHash ?? ''}\0${canonicalJson(d.raw)}`;
const withStatus = (d: ParsedDoc, status: Record<string, unknown> | undefined): ParsedDoc => {
  const { status: _old, ...rest } = d;
  return status === undefined ? rest : { ...rest, status };
};
/** Synchronous, as the status writer's reads are (see there): a resource file is small. */
const readQuietly = (file: string): string | undefined => {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
};
const sameDocs = (a: ParsedDoc[], b: ParsedDoc[]): boolean => a.length === b.length && a.every((d, i) => fingerprint(d) === fingerprint(b[i]));

export interface DocAddress {
  file: string;
  index: number;
  kind: string;
  name: string;
}

const sha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

export class FileStore {
  readonly resourcesDir: string;
  private readonly written = new Map<string, string>();
  /**
   * Per file: the hash of the text last written or checked, and each
   * document's status in it, so an unchanged status costs a read and a hash
   * instead of three YAML parses (a resync of a thousand files stays cheap).
   */
  private readonly known = new Map<string, { hash: string; statuses: Map<string, string> }>();
  private readonly parsed = new Map<string, ParsedFile>();
  /** Per file: where the status sits in the text last written or checked (splice.ts). */
  private readonly memos = new Map<string, SpliceMemo>();
  /** Status writes to one file run one after another, so they never race each other. */
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(private readonly opts: FileStoreOptions) {
    this.resourcesDir = opts.resourcesDir;
  }

  /**
   * Reads the folder. A file counts as changed unless its text is the same as
   * at the last scan, or is a status this store wrote into documents that are
   * otherwise as they were: so a scan after our own writes reconciles nothing.
   */
  async scan(): Promise<StoreScan> {
    const before = new Map([...this.parsed].map(([file, p]) => [file, p.docs]));
    const result = await scanFolder(this.resourcesDir, this.parsed);
    for (const file of this.memos.keys()) if (!this.parsed.has(file)) this.memos.delete(file);
    const changed = new Set<string>();
    for (const file of result.changed ?? []) {
      const now = this.parsed.get(file);
      const prev = before.get(file);
      const ours = now !== undefined && this.known.get(file)?.hash === sha256(now.text);
      if (!(ours && prev !== undefined && sameDocs(prev, now.docs))) changed.add(file);
    }
    return { ...result, changed };
  }

  async writeStatus(doc: DocAddress, status: Record<string, unknown> | undefined): Promise<WriteOutcome> {
    const file = resolve(doc.file);
    const prev = this.queues.get(file) ?? Promise.resolve();
    const run = prev.catch(() => undefined).then(async (): Promise<WriteOutcome> => {
      const docKey = `${doc.kind}/${doc.name}`;
      const want = JSON.stringify(status ?? null);
      const seen = this.known.get(file);
      if (seen?.statuses.get(docKey) === want) {
        const current = readQuietly(file);
        if (current !== undefined && sha256(current) === seen.hash) return 'unchanged';
      }
      const result = await writeStatus(doc.file, { kind: doc.kind, name: doc.name, index: doc.index }, status, {
        beforeRename: this.opts.beforeRename,
        // Known before the rename, so the watcher's event for it is recognised as ours.
        onRename: (text) => this.written.set(file, sha256(text)),
        memo: this.memos.get(file),
      });
      if (result.memo) this.memos.set(file, result.memo);
      else this.memos.delete(file);
      if (result.base !== undefined && result.base !== this.parsed.get(file)?.text && sha256(result.base) !== seen?.hash) this.opts.onForeignText?.(file);
      const cached = this.parsed.get(file);
      if (result.outcome === 'written' && cached !== undefined && result.base === cached.text) {
        // The scan's copy moves along with our write: the next scan finds this text already known and
        // parses nothing (a thousand resources turning Ready would otherwise be parsed again at the resync).
        const docs = cached.docs.map((d) => (d.kind === doc.kind && d.name === doc.name ? withStatus(d, status) : d));
        this.parsed.set(file, { text: result.text!, docs });
      }
      if (result.text !== undefined) {
        // A written text is already in `written`: onRename put it there before the rename.
        const hash = sha256(result.text);
        // Another text than the one known: what it says of the other documents is unknown until checked.
        const statuses = seen?.hash === hash ? seen.statuses : new Map<string, string>();
        statuses.set(docKey, want);
        this.known.set(file, { hash, statuses });
      }
      return result.outcome;
    });
    this.queues.set(file, run);
    try {
      return await run;
    } finally {
      if (this.queues.get(file) === run) this.queues.delete(file);
    }
  }

  /** True when the file holds exactly the text this store last wrote to it. */
  async isOwnWrite(file: string): Promise<boolean> {
    const last = this.written.get(resolve(file));
    if (last === undefined) return false;
    const text = readQuietly(file);
    return text !== undefined && sha256(text) === last;
  }
}
