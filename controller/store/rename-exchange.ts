// Linux's renameat2(RENAME_EXCHANGE), which Node does not offer, through aifb's
// own small addon (native/rename-exchange, built by scripts/build-native.sh
// into .cache/native). The status writer swaps its temp file with the resource
// file, so the file that was there at that instant (a user's save included)
// is left under the temp name rather than unlinked.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { constants } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Swaps two existing names in one step. Throws with `code` set, as node:fs does. */
export type Exchange = (a: string, b: string) => void;

const ADDON = join('.cache', 'native', 'rename-exchange.node');
const errnoNames = new Map(Object.entries(constants.errno).map(([name, n]) => [n, name]));

/** The checkout's addon, looked for from this file up (controller/store in the sources, dist/controller/store built). */
function findAddon(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let up = 0; up < 4; up++, dir = dirname(dir)) {
    if (existsSync(join(dir, ADDON))) return join(dir, ADDON);
  }
  return undefined;
}

function load(): Exchange | undefined {
  const path = findAddon();
  if (path === undefined) return undefined;
  const addon = createRequire(import.meta.url)(path) as { exchange(a: string, b: string): void };
  return (a, b) => {
    try {
      addon.exchange(a, b);
    } catch (e) {
      const errno = (e as { errno?: number }).errno;
      if (errno === undefined) throw e;
      const code = errnoNames.get(errno) ?? `errno ${errno}`;
      throw Object.assign(new Error(`${code}: cannot exchange ${a} and ${b}`), { code, errno });
    }
  };
}

/** The exchange, or undefined where the addon was not built (no C compiler): then rename(2) serves, with its window. */
export const renameExchange: Exchange | undefined = load();

/** Errors that mean this file system (or kernel) has no exchange, so a plain rename must do (NFS, for one). */
export const unsupported = (e: unknown): boolean => ['EINVAL', 'ENOSYS', 'ENOTSUP', 'EOPNOTSUPP'].includes((e as NodeJS.ErrnoException).code ?? '');
