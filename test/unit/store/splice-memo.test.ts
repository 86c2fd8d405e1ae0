// A status write into the text the last one made starts from that splice's
// memo instead of parsing the text: it must give byte for byte what the full
// splice gives, and a memo of any other text must change nothing.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { spliceStatus, type DocRef, type SpliceMemo } from '../../../controller/store/splice.js';
import { writeStatus } from '../../../controller/store/status-writer.js';
import { benchmark, service, tempDir, TRICKY } from './fixtures.js';

const crlf = (t: string) => t.replace(/\n/g, '\r\n');

const FILES: Array<[string, string, DocRef]> = [
  ['first document of a tricky file', TRICKY, { kind: 'Benchmark', name: 'fs-load', index: 0 }],
  ['last document of a tricky file', TRICKY, { kind: 'Service', name: 'nfs', index: 2 }],
  ['CRLF', crlf(TRICKY), { kind: 'Service', name: 'nfs', index: 2 }],
  ['byte-order mark', `\ufeff${benchmark('plain')}`, { kind: 'Benchmark', name: 'plain', index: 0 }],
  ['no final newline', service('a').trimEnd(), { kind: 'Service', name: 'a', index: 0 }],
  ['indented top level', '  apiVersion: aifb.io/v1alpha1\n  kind: Service\n  metadata:\n    name: nfs\n  spec:\n    type: file-storage\n', { kind: 'Service', name: 'nfs', index: 0 }],
  ['status before a column-0 comment and another document', `${service('a')}status:\n  phase: Old\n\n# about b\n---\n${service('b')}`, { kind: 'Service', name: 'a', index: 0 }],
  ['status the user moved up', 'kind: Service\nstatus: {phase: Old}   # stale\nmetadata:\n  name: nfs\nspec:\n  type: file-storage\n', { kind: 'Service', name: 'nfs', index: 0 }],
];

const STATUSES: Array<Record<string, unknown>> = [
  { phase: 'Starting', observedGeneration: 1 },
  { phase: 'Pending', message: 'job 7 is waiting in the queue (reason: BeginTime)', jobs: [{ role: 'runner', attempt: 1, jobId: '7', state: 'pending' }] },
  // Block scalars: a line that looks like a comment, a final line break kept.
  { phase: 'Failed', message: 'line one\n# not a comment\n' },
  { phase: 'Failed', message: 'first\nsecond', results: {} },
  { phase: 'Running', runId: '0123', startedAt: '2025-01-01T00:00:00Z', empty: [], nested: { a: [1, 2.5, null, true] } },
];

describe('spliceStatus with the memo of the last splice', () => {
  for (const [name, start, ref] of FILES) {
    it(`${name}: each write from the memo is byte for byte the full splice's`, () => {
      let text = start;
      let memo: SpliceMemo | undefined;
      for (const status of [...STATUSES, ...STATUSES.slice().reverse()]) {
        const full = spliceStatus(text, 'res.yaml', ref, status);
        const fast = spliceStatus(text, 'res.yaml', ref, status, memo);
        expect(fast).toEqual(full);
        if (!full.found) throw new Error('document not found');
        expect(full.memo?.text).toBe(full.text);
        ({ text, memo } = full);
      }
      // Removal takes the full path and leaves nothing to remember.
      const removed = spliceStatus(text, 'res.yaml', ref, undefined, memo);
      expect(removed).toEqual(spliceStatus(text, 'res.yaml', ref, undefined));
      expect(removed.found && removed.memo).toBeUndefined();
    });
  }

  it('is not used for another text, another document or another index', () => {
    const ref = { kind: 'Benchmark', name: 'fs-load', index: 0 };
    const first = spliceStatus(TRICKY, 'res.yaml', ref, { phase: 'Running' });
    if (!first.found || !first.memo) throw new Error('no memo');
    // A memo that lies about where the block is would damage the file if it were trusted.
    const lying: SpliceMemo = { ...first.memo, start: 0, end: first.memo.text.length };
    const edited = first.text.replace('workers: 2', 'workers: 3');
    expect(spliceStatus(edited, 'res.yaml', ref, { phase: 'Done' }, lying)).toEqual(spliceStatus(edited, 'res.yaml', ref, { phase: 'Done' }));
    const svc = { kind: 'Service', name: 'nfs', index: 2 };
    expect(spliceStatus(first.text, 'res.yaml', svc, { phase: 'Ready' }, lying)).toEqual(spliceStatus(first.text, 'res.yaml', svc, { phase: 'Ready' }));
    const moved = { ...ref, index: 1 };
    expect(spliceStatus(first.text, 'res.yaml', moved, { phase: 'Done' }, lying)).toEqual(spliceStatus(first.text, 'res.yaml', moved, { phase: 'Done' }));
  });

  it('takes a status that JSON and YAML carry differently (-0) as YAML writes it', () => {
    const r = spliceStatus(service('a'), 'res.yaml', { kind: 'Service', name: 'a', index: 0 }, { phase: 'Ready', offset: -0 });
    if (!r.found) throw new Error('document not found');
    expect(Object.is((parseAllDocuments(r.text)[0].toJS() as { status: { offset: number } }).status.offset, -0)).toBe(true);
  });
});

describe('writeStatus with a memo', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => ({ dir, cleanup } = await tempDir()));
  afterEach(() => cleanup());

  it('keeps a user edit made since the write the memo came from', async () => {
    const file = join(dir, 'res.yaml');
    const ref = { kind: 'Benchmark', name: 'plain', index: 0 };
    await writeFile(file, benchmark('plain'));
    const first = await writeStatus(file, ref, { phase: 'Starting' });
    expect(first.memo?.text).toBe(await readFile(file, 'utf8'));
    await writeFile(file, (await readFile(file, 'utf8')).replace('workers: 2', 'workers: 5'));
    const second = await writeStatus(file, ref, { phase: 'Pending' }, { memo: first.memo });
    expect(second.outcome).toBe('written');
    expect(await readFile(file, 'utf8')).toBe(`${benchmark('plain').replace('workers: 2', 'workers: 5')}status:\n  phase: Pending\n`);
    const third = await writeStatus(file, ref, { phase: 'Running' }, { memo: second.memo });
    expect(await readFile(file, 'utf8')).toBe(`${benchmark('plain').replace('workers: 2', 'workers: 5')}status:\n  phase: Running\n`);
    expect(third.memo?.text).toBe(third.text);
  });
});
