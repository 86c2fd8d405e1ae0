// Puts `aifbctl` on PATH without root and without npm's global prefix (not
// writable on a login node): a symlink in ~/.local/bin, the per-user folder
// Debian's and RHEL's login profiles put on PATH, to this checkout's bin/aifbctl.
// Run by `npm run quickstart`; never replaces a file it did not make.
import { existsSync, lstatSync, mkdirSync, readlinkSync, symlinkSync, unlinkSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const WRAPPER = fileURLToPath(new URL('../../../bin/aifbctl', import.meta.url));

export interface LinkResult {
  ok: boolean;
  message: string;
}

export function linkCli(env: NodeJS.ProcessEnv = process.env, target = WRAPPER): LinkResult {
  const home = env.HOME;
  const binDir = env.AIFB_BIN_DIR ?? (home ? join(home, '.local', 'bin') : undefined);
  if (!binDir) return { ok: false, message: 'aifbctl: not linked: $HOME is not set; run bin/aifbctl from this folder, or set AIFB_BIN_DIR' };
  const link = join(binDir, 'aifbctl');
  mkdirSync(binDir, { recursive: true });
  if (existsSync(link) || isDanglingLink(link)) {
    const current = lstatSync(link).isSymbolicLink() ? resolve(binDir, readlinkSync(link)) : undefined;
    if (current !== target) {
      if (current === undefined || !current.endsWith(join('bin', 'aifbctl'))) {
        return { ok: false, message: `aifbctl: not linked: ${link} exists and is not aifb's; remove it, or set AIFB_BIN_DIR to another folder on PATH` };
      }
      // Another checkout's aifbctl: this one is the one being set up now.
      unlinkSync(link);
      symlinkSync(target, link);
    }
  } else {
    symlinkSync(target, link);
  }
  const onPath = (env.PATH ?? '').split(delimiter).some((d) => d && resolve(d) === resolve(binDir));
  return {
    ok: true,
    message: onPath
      ? `aifbctl: ${link} -> ${target}`
      : `aifbctl: ${link} -> ${target}; ${binDir} is not on PATH in this shell: log in again (login profiles add it when it exists) or add export PATH="${binDir}:$PATH" to ~/.bashrc`,
  };
}

function isDanglingLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const r = linkCli();
  process.stdout.write(`${r.message}\n`);
}
