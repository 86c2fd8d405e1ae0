// Writes one document's status into its resource file: splice, temp file, fsync,
// re-check for a user edit, swap. A user's edit made meanwhile is never overwritten.
//
// Every call on these small files is synchronous, the fsync too, as the state
// records' are. Each asynchronous call is a turn of the event loop, and with
// 200 resources arriving at once a write of a dozen turns took about 60 ms to
// get them, holding a reconcile worker all along (cp -> sbatch waited on it);
// the fsync alone, on the thread pool, came back after 13 ms at the median
// where it takes 0.3 ms.
import { randomBytes } from 'node:crypto';
import { chownSync, closeSync, fchmodSync, fstatSync, fsyncSync, openSync, readFileSync, readSync, realpathSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { StoreError } from './errors.js';
import { renameExchange, unsupported, type Exchange } from './rename-exchange.js';
import { spliceStatus, type DocRef, type SpliceMemo } from './splice.js';

export { StoreError } from './errors.js';
export type { DocRef, SpliceMemo } from './splice.js';

export type WriteOutcome = 'written' | 'unchanged' | 'gone';

export interface WriteStatusResult {
  outcome: WriteOutcome;
  /** The file's text after the call (what was written, or what was already there). */
  text?: string;
  /** The text the status was spliced into: the file as it was found, with whatever edits it had. */
  base?: string;
  /** For the next write into `text`, when it was written here: spares it a parse (splice.ts). */
  memo?: SpliceMemo;
}

export interface WriteStatusOptions {
  /** Test seam: runs after the temp file is complete and before the final re-read and rename. */
  beforeRename?: (attempt: number) => Promise<void>;
  /** Called with the new text just before the final re-read and rename, so any event of the rename comes after it. */
  onRename?: (text: string) => void;
  /** Test seam: runs between the final re-read and the rename (a save landing in that window). */
  afterReread?: () => void;
  /** How the temp file takes the target's place: the native exchange when built; null forces rename(2). */
  exchange?: Exchange | null;
  /** What the last write into this file returned; used only if the file still holds exactly that text. */
  memo?: SpliceMemo;
}

const MAX_TRIES = 5;

function readOrGone(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new StoreError(`cannot read ${basename(file)}: ${(e as Error).message}`, file);
  }
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    /* already gone */
  }
}

/** Writes `text` to a hidden temp file beside `target` with the target's mode (and owner, when root). */
function writeTemp(target: string, text: string): string {
  const tmp = join(dirname(target), `.${basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const st = statSync(target);
  const fd = openSync(tmp, 'wx', st.mode & 0o7777);
  try {
    writeFileSync(fd, text, 'utf8');
    // open() applies the umask; chmod makes the mode exactly the user's.
    fchmodSync(fd, st.mode & 0o7777);
    fsyncSync(fd);
  } catch (e) {
    try {
      closeSync(fd);
    } catch {
      /* the write's error is the one to tell */
    }
    removeQuietly(tmp);
    throw e;
  }
  closeSync(fd);
  if (process.getuid?.() === 0 && (st.uid !== 0 || st.gid !== 0)) {
    // A controller running as root must not hand the user's file over to root.
    try {
      chownSync(tmp, st.uid, st.gid);
    } catch {
      /* the mode still holds */
    }
  }
  return tmp;
}

type Swap = { kind: 'renamed' } | { kind: 'gone' } | { kind: 'changed' | 'late'; text: string };

/** The whole content of an open file, from its start. */
function readFd(fd: number): string {
  const size = fstatSync(fd).size;
  const buf = Buffer.alloc(size);
  let got = 0;
  while (got < size) {
    const n = readSync(fd, buf, got, size - got, got);
    if (n === 0) break;
    got += n;
  }
  return buf.toString('utf8', 0, got);
}

/** Swaps tmp and target; false where the file system has no exchange (rename must do), 'gone' when target was deleted. */
function trySwap(exchange: Exchange, tmp: string, target: string): boolean | 'gone' {
  try {
    exchange(tmp, target);
    return true;
  } catch (e) {
    if (unsupported(e)) return false;
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 'gone';
    throw new StoreError(`cannot replace ${basename(target)}: ${(e as Error).message}`, target);
  }
}

/** What target holds now, as 'changed' (or 'gone'): a save landed since the re-read. */
function changedTo(target: string): Swap {
  const text = readOrGone(target);
  return text === undefined ? { kind: 'gone' } : { kind: 'changed', text };
}

/**
 * Exchanges tmp with target when target is still the file read (`readIno`),
 * after which tmp names what target held at that instant. A save by rename
 * that landed since the re-read is seen by its inode before the exchange, so
 * our text never takes its place. One that lands between that look and the
 * exchange (a system call apart) is seen by its inode right after it and put
 * back at once: our text, without the save, is in place for one stat, and an
 * editor that re-reads the file in exactly that moment would build its next
 * save on it (the one window left; rename(2) has none smaller, and Linux has
 * no compare-and-swap of names). A save in place keeps the inode, so the text
 * displaced is compared too and put back when it differs. A file deleted
 * since stays deleted. Undefined where the file system has no exchange.
 */
function exchangeIn(exchange: Exchange, tmp: string, target: string, expected: string, readIno: number): Swap | undefined {
  const ours = statSync(tmp).ino;
  const now = statSync(target, { throwIfNoEntry: false });
  if (now === undefined) return { kind: 'gone' };
  if (now.ino !== readIno) return changedTo(target);
  const swapped = trySwap(exchange, tmp, target);
  if (swapped === 'gone') return { kind: 'gone' };
  if (!swapped) return undefined;
  if (statSync(tmp).ino === readIno) {
    const displaced = readFileSync(tmp, 'utf8');
    if (displaced === expected) return { kind: 'renamed' };
  }
  if (trySwap(exchange, tmp, target) === 'gone') return { kind: 'gone' };
  // Another save replaced our text in those microseconds: it is the newer one, so it goes in place.
  if (statSync(tmp).ino !== ours) trySwap(exchange, tmp, target);
  return changedTo(target);
}

/**
 * Puts tmp in target's place if target still holds `expected`. Synchronous
 * from the re-read to the swap, so no other work of this process runs in
 * between (done asynchronously, that window spans event-loop turns:
 * milliseconds when the controller is busy). With the exchange, nothing that
 * lands in the window is lost (exchangeIn). Without it (no addon, or a file
 * system such as NFS that has none), rename(2) unlinks a save by rename that
 * lands there; the file read is kept open across it, so a save in place
 * (truncate and write, keeping the inode) is seen afterwards and returned as
 * 'late', to be written again with the user's text.
 */
function replaceIfUnchanged(target: string, tmp: string, expected: string, exchange: Exchange | undefined, afterReread?: () => void): Swap {
  let fd: number;
  try {
    fd = openSync(target, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'gone' };
    throw new StoreError(`cannot read ${basename(target)}: ${(e as Error).message}`, target);
  }
  try {
    const current = readFd(fd);
    if (current !== expected) return { kind: 'changed', text: current };
    afterReread?.();
    const exchanged = exchange && exchangeIn(exchange, tmp, target, expected, fstatSync(fd).ino);
    if (exchanged) return exchanged;
    renameSync(tmp, target);
    const after = readFd(fd);
    // Empty: a save truncated it and has not written yet; its text is not known, so it cannot be rescued.
    return after !== expected && after !== '' ? { kind: 'late', text: after } : { kind: 'renamed' };
  } finally {
    closeSync(fd);
  }
}

/**
 * Replaces (or inserts, or with `undefined` removes) the status block of one document.
 * 'gone' when the file or the document no longer exists; throws StoreError when the file's
 * YAML is invalid or the document cannot be edited safely.
 */
export async function writeStatus(
  file: string,
  ref: DocRef,
  status: Record<string, unknown> | undefined,
  opts: WriteStatusOptions = {},
): Promise<WriteStatusResult> {
  let target: string;
  try {
    // Write through a symlink rather than replacing the link with a plain file.
    target = realpathSync.native(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { outcome: 'gone' };
    throw new StoreError(`cannot resolve ${basename(file)}: ${(e as Error).message}`, file);
  }

  // `base` is the text the status is spliced into; `onDisk` what the file must still hold for the rename.
  // They differ only after a late in-place save: the file then holds our last text, the user's is in hand.
  const exchange = opts.exchange === null ? undefined : (opts.exchange ?? renameExchange);
  let onDisk = readOrGone(target);
  let base = onDisk;
  for (let attempt = 1; ; attempt++) {
    if (base === undefined || onDisk === undefined) return { outcome: 'gone' };
    const text = base;
    // Holding a save that landed on our last write: the file has our text, theirs is only here,
    // so there is no giving up until it is back in the file (each try needs another such save).
    const holding = text !== onDisk;
    if (attempt > MAX_TRIES && !holding) {
      throw new StoreError(
        `${basename(file)} changed ${MAX_TRIES} times while the controller was writing status; status not written, it will be retried`,
        file,
      );
    }
    let spliced: { found: boolean; text?: string; memo?: SpliceMemo };
    let refused: unknown;
    try {
      spliced = spliceStatus(text, file, ref, status, opts.memo);
    } catch (e) {
      if (!holding) throw e;
      refused = e;
      spliced = { found: false };
    }
    if (!spliced.found && !holding) return { outcome: 'gone' };
    // A held save that no longer has the document, or cannot take a status, goes back as it was saved.
    const next = spliced.text ?? text;
    if (next === text && !holding) return { outcome: 'unchanged', text, base: text, memo: spliced.memo };

    const tmp = writeTemp(target, next);
    let swap: Swap;
    try {
      await opts.beforeRename?.(attempt);
      // Told before the re-read, so nothing but the comparison sits between it and the rename.
      opts.onRename?.(next);
      swap = replaceIfUnchanged(target, tmp, onDisk, exchange, opts.afterReread);
    } finally {
      removeQuietly(tmp);
    }
    if (swap.kind === 'gone') return { outcome: 'gone' };
    if (swap.kind === 'changed') {
      // The user saved between our read and now: start over from their text.
      onDisk = base = swap.text;
      continue;
    }
    if (swap.kind === 'late') {
      // Their save landed on the file we just replaced: write their text again, with the status.
      base = swap.text;
      onDisk = next;
      continue;
    }
    if (refused !== undefined) throw refused;
    if (!spliced.found) return { outcome: 'gone' };
    // No fsync of the folder: it would only make the rename itself durable, and a status lost to a
    // crash is written again by the next reconcile; the old file and the new both hold the user's text.
    return { outcome: 'written', text: next, base: text, memo: spliced.memo };
  }
}
