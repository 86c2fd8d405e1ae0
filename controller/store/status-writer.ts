// Writes one document's status into its resource file: splice, temp file, fsync,
// re-check for a user edit, rename. A user's edit made meanwhile is never overwritten.
import { randomBytes } from 'node:crypto';
import { chown, open, readFile, realpath, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { StoreError } from './errors.js';
import { spliceStatus, type DocRef } from './splice.js';

export { StoreError } from './errors.js';
export type { DocRef } from './splice.js';

export type WriteOutcome = 'written' | 'unchanged' | 'gone';

export interface WriteStatusResult {
  outcome: WriteOutcome;
  /** The file's text after the call (what was written, or what was already there). */
  text?: string;
}

export interface WriteStatusOptions {
  /** Test seam: runs after the temp file is complete and before the final re-read and rename. */
  beforeRename?: (attempt: number) => Promise<void>;
}

const MAX_TRIES = 5;

async function readOrGone(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new StoreError(`cannot read ${basename(file)}: ${(e as Error).message}`, file);
  }
}

async function removeQuietly(path: string): Promise<void> {
  await unlink(path).catch(() => undefined);
}

/** Writes `text` to a hidden temp file beside `target` with the target's mode (and owner, when root). */
async function writeTemp(target: string, text: string): Promise<string> {
  const tmp = join(dirname(target), `.${basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const st = await stat(target);
  const fh = await open(tmp, 'wx', st.mode & 0o7777);
  try {
    await fh.writeFile(text, 'utf8');
    // open() applies the umask; chmod makes the mode exactly the user's.
    await fh.chmod(st.mode & 0o7777);
    await fh.sync();
  } catch (e) {
    await fh.close().catch(() => undefined);
    await removeQuietly(tmp);
    throw e;
  }
  await fh.close();
  if (process.getuid?.() === 0 && (st.uid !== 0 || st.gid !== 0)) {
    // A controller running as root must not hand the user's file over to root.
    await chown(tmp, st.uid, st.gid).catch(() => undefined);
  }
  return tmp;
}

async function syncDir(dir: string): Promise<void> {
  // Makes the rename durable; some filesystems refuse fsync on a directory, which is fine.
  try {
    const fh = await open(dir, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch {
    /* best effort */
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
    target = await realpath(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { outcome: 'gone' };
    throw new StoreError(`cannot resolve ${basename(file)}: ${(e as Error).message}`, file);
  }

  for (let attempt = 1; attempt <= MAX_TRIES; attempt++) {
    const text = await readOrGone(target);
    if (text === undefined) return { outcome: 'gone' };
    const spliced = spliceStatus(text, file, ref, status);
    if (!spliced.found) return { outcome: 'gone' };
    if (spliced.text === text) return { outcome: 'unchanged', text };

    const tmp = await writeTemp(target, spliced.text);
    try {
      await opts.beforeRename?.(attempt);
      // The user may have saved between our read and now: start over from their text.
      // (A save in the microseconds between this read and the rename cannot be excluded
      // without locks editors do not take; this window is as small as it gets.)
      const current = await readOrGone(target);
      if (current === undefined) return { outcome: 'gone' };
      if (current !== text) continue;
      await rename(tmp, target);
    } finally {
      await removeQuietly(tmp);
    }
    await syncDir(dirname(target));
    return { outcome: 'written', text: spliced.text };
  }
  throw new StoreError(
    `${basename(file)} changed ${MAX_TRIES} times while the controller was writing status; status not written, it will be retried`,
    file,
  );
}
