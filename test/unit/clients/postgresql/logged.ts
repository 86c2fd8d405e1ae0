// Waiting for the server's log (tests only: it asserts with vitest, which
// server.ts, shared with the bench, must not import).
import { expect, vi } from 'vitest';
import type { PgServer } from './server.js';

/**
 * The log written since `from`, once it holds `count` lines matching `re`
 * (a global pattern): a statement's line comes through the server's stderr
 * pipe, at times a moment after its answer. Fails after 5 s.
 */
export function loggedOnce(pg: PgServer, from: number, re: RegExp, count: number): Promise<string> {
  return vi.waitFor(
    () => {
      const log = pg.log().slice(from);
      expect(log.match(re) ?? []).toHaveLength(count);
      return log;
    },
    { timeout: 5000, interval: 20 },
  );
}
