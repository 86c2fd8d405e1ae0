// Temporary folders for the containers tests, removed after each test so runs
// (and the PostgreSQL data folders some of them hold) do not pile up in /tmp.
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';

/** Call at the top of a test file; returns a maker of folders that live for one test. */
export function useTempDirs(): (prefix: string, opts?: { shared?: boolean }) => string {
  const made: string[] = [];
  afterEach(() => {
    for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  return (prefix, opts = {}) => {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    // mkdtemp makes 0700 folders; the postgres OS user must be able to reach inside.
    if (opts.shared) chmodSync(dir, 0o755);
    made.push(dir);
    return dir;
  };
}
