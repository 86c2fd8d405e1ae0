// Who may read the status API. Bound to loopback it is open (only this host's
// users reach it, as on a laptop); bound to anything else every route but
// /healthz wants `Authorization: Bearer <token>`, and a route that changes
// something would want it even on loopback. The token lives in a file only
// its owner can read; it is compared in constant time and never logged.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import writeFileAtomic from 'write-file-atomic';

export const TOKEN_FILE = 'api-token';

export interface ApiToken {
  token: string;
  /** Where it was read from or generated into: what users and Prometheus are pointed at. */
  file: string;
  generated: boolean;
}

/**
 * The token in `tokenFile` when given (its first line), else the one in
 * `<stateDir>/api-token`, generated there on first start. Throws with the fix
 * when a given file is unreadable, empty, or readable by others.
 */
export function loadApiToken(stateDir: string, tokenFile?: string): ApiToken {
  const file = tokenFile ?? join(stateDir, TOKEN_FILE);
  if (!existsSync(file)) {
    if (tokenFile) throw new Error(`--token-file ${tokenFile} does not exist; create it (one line, e.g. openssl rand -base64 32) or leave the flag out to have one generated`);
    mkdirSync(dirname(file), { recursive: true });
    writeFileAtomic.sync(file, `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600 });
    return { token: readToken(file), file, generated: true };
  }
  const mode = statSync(file).mode & 0o777;
  if (mode & 0o077) throw new Error(`${file} can be read by others (mode ${mode.toString(8)}); make it owner-only: chmod 600 ${file}`);
  return { token: readToken(file), file, generated: false };
}

function readToken(file: string): string {
  const token = readFileSync(file, 'utf8').split(/\r?\n/)[0].trim();
  if (token.length < 16) throw new Error(`${file} holds no usable token (at least 16 characters on its first line); write one, e.g. openssl rand -base64 32 > ${file}`);
  return token;
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Constant time, whatever the lengths: both sides are hashed to the same size first. */
export function tokenMatches(header: string | undefined, token: string): boolean {
  const m = /^Bearer\s+(\S+)$/i.exec(header ?? '');
  return m !== null && timingSafeEqual(digest(m[1]), digest(token));
}

/** 127.0.0.0/8, ::1 and localhost: reachable from this host only. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h) || h === '::ffff:127.0.0.1';
}
