// The controller's handle on the resources folder: scans it and writes status, and
// remembers what it wrote so the watcher can ignore the events of its own writes.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { scanFolder, type ParsedFile, type ScanResult } from './parse.js';
import { writeStatus, type WriteOutcome, type WriteStatusOptions } from './status-writer.js';

export interface FileStoreOptions extends WriteStatusOptions {
  resourcesDir: string;
}

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
  /** Status writes to one file run one after another, so they never race each other. */
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(private readonly opts: FileStoreOptions) {
    this.resourcesDir = opts.resourcesDir;
  }

  scan(): Promise<ScanResult> {
    return scanFolder(this.resourcesDir, this.parsed);
  }

  async writeStatus(doc: DocAddress, status: Record<string, unknown> | undefined): Promise<WriteOutcome> {
    const file = resolve(doc.file);
    const prev = this.queues.get(file) ?? Promise.resolve();
    const run = prev.catch(() => undefined).then(async (): Promise<WriteOutcome> => {
      const docKey = `${doc.kind}/${doc.name}`;
      const want = JSON.stringify(status ?? null);
      const seen = this.known.get(file);
      if (seen?.statuses.get(docKey) === want) {
        const current = await readFile(file, 'utf8').catch(() => undefined);
        if (current !== undefined && sha256(current) === seen.hash) return 'unchanged';
      }
      const result = await writeStatus(doc.file, { kind: doc.kind, name: doc.name, index: doc.index }, status, {
        beforeRename: this.opts.beforeRename,
      });
      if (result.text !== undefined) {
        const hash = sha256(result.text);
        if (result.outcome === 'written') this.written.set(file, hash);
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
    try {
      return sha256(await readFile(file, 'utf8')) === last;
    } catch {
      return false;
    }
  }
}
