import { chmod, readdir, readFile, stat, symlink, writeFile, lstat } from 'node:fs/promises';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseResourceText } from '../../../controller/store/parse.js';
import { StoreError, writeStatus } from '../../../controller/store/status-writer.js';
import { benchmark, service, tempDir, TRICKY } from './fixtures.js';

const BENCH = { kind: 'Benchmark', name: 'fs-load', index: 0 };
const SVC = { kind: 'Service', name: 'nfs', index: 2 };

const statusOf = (text: string, index: number): unknown => (parseAllDocuments(text)[index].toJS() as { status?: unknown }).status;

describe('writeStatus', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let file: string;
  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir());
    file = join(dir, 'res.yaml');
  });
  afterEach(() => cleanup());

  it('inserts status after the user text of the document, keeping every other byte', async () => {
    await writeFile(file, TRICKY);
    const r = await writeStatus(file, BENCH, { phase: 'Running', observedGeneration: 1 });
    expect(r.outcome).toBe('written');
    const text = await readFile(file, 'utf8');
    expect(r.text).toBe(text);
    // Comments indented under spec stay with spec; the top-level comment stays with the next document.
    const cut = TRICKY.indexOf('    # maxRequests: 100\n') + '    # maxRequests: 100\n'.length;
    expect(text).toBe(`${TRICKY.slice(0, cut)}status:\n  phase: Running\n  observedGeneration: 1\n${TRICKY.slice(cut)}`);
    expect(statusOf(text, 0)).toEqual({ phase: 'Running', observedGeneration: 1 });
  });

  it('replaces only the status block, is idempotent, and removing it restores the original bytes', async () => {
    await writeFile(file, TRICKY);
    await writeStatus(file, BENCH, { phase: 'Running' });
    const r = await writeStatus(file, BENCH, { phase: 'Succeeded', results: { requests: 10, p99Ms: 1.5 }, message: 'done: 10 requests, "ok"' });
    expect(r.outcome).toBe('written');
    const text = await readFile(file, 'utf8');
    const cut = TRICKY.indexOf('    # maxRequests: 100\n') + '    # maxRequests: 100\n'.length;
    expect(text.startsWith(TRICKY.slice(0, cut) + 'status:\n')).toBe(true);
    expect(text.endsWith(TRICKY.slice(cut))).toBe(true);
    expect(statusOf(text, 0)).toEqual({ phase: 'Succeeded', results: { requests: 10, p99Ms: 1.5 }, message: 'done: 10 requests, "ok"' });

    const again = await writeStatus(file, BENCH, { phase: 'Succeeded', results: { requests: 10, p99Ms: 1.5 }, message: 'done: 10 requests, "ok"' });
    expect(again.outcome).toBe('unchanged');
    expect(await readFile(file, 'utf8')).toBe(text);

    expect((await writeStatus(file, BENCH, undefined)).outcome).toBe('written');
    expect(await readFile(file, 'utf8')).toBe(TRICKY);
    expect((await writeStatus(file, BENCH, undefined)).outcome).toBe('unchanged');
  });

  it('writes the last document of a file and leaves the documents before it identical', async () => {
    await writeFile(file, TRICKY);
    await writeStatus(file, SVC, { phase: 'Ready', endpoint: { host: '127.0.0.1', port: 8080 } });
    const text = await readFile(file, 'utf8');
    expect(text).toBe(`${TRICKY}status:\n  phase: Ready\n  endpoint:\n    host: 127.0.0.1\n    port: 8080\n`);
    await writeStatus(file, BENCH, { phase: 'Pending' });
    await writeStatus(file, SVC, undefined);
    await writeStatus(file, BENCH, undefined);
    expect(await readFile(file, 'utf8')).toBe(TRICKY);
  });

  it('replaces a status the user moved up, keeping the keys after it in place', async () => {
    const text = 'apiVersion: aifb.io/v1alpha1\nkind: Service\nstatus: {phase: Old}   # stale\nmetadata:\n  name: nfs\nspec:\n  type: file-storage\n';
    await writeFile(file, text);
    await writeStatus(file, { kind: 'Service', name: 'nfs', index: 0 }, { phase: 'Ready' });
    expect(await readFile(file, 'utf8')).toBe(text.replace('status: {phase: Old}   # stale\n', 'status:\n  phase: Ready\n'));
  });

  it('handles an empty status value, a file without a final newline, and CRLF line ends', async () => {
    const empty = `${service('a')}status:\n`;
    await writeFile(file, empty);
    await writeStatus(file, { kind: 'Service', name: 'a', index: 0 }, { phase: 'Ready' });
    expect(await readFile(file, 'utf8')).toBe(`${service('a')}status:\n  phase: Ready\n`);

    const noNewline = service('a').trimEnd();
    await writeFile(file, noNewline);
    await writeStatus(file, { kind: 'Service', name: 'a', index: 0 }, { phase: 'Ready' });
    expect(await readFile(file, 'utf8')).toBe(`${noNewline}\nstatus:\n  phase: Ready`);
    expect((await writeStatus(file, { kind: 'Service', name: 'a', index: 0 }, { phase: 'Ready' })).outcome).toBe('unchanged');
    await writeStatus(file, { kind: 'Service', name: 'a', index: 0 }, undefined);
    expect(await readFile(file, 'utf8')).toBe(`${noNewline}\n`);

    const crlf = service('a').replace(/\n/g, '\r\n');
    await writeFile(file, crlf);
    await writeStatus(file, { kind: 'Service', name: 'a', index: 0 }, { phase: 'Ready', attempts: 1 });
    expect(await readFile(file, 'utf8')).toBe(`${crlf}status:\r\n  phase: Ready\r\n  attempts: 1\r\n`);
    await writeStatus(file, { kind: 'Service', name: 'a', index: 0 }, undefined);
    expect(await readFile(file, 'utf8')).toBe(crlf);
  });

  describe('every encoding the parser accepts: a byte-order mark, Windows line endings, both', () => {
    const variants: [string, (t: string) => string][] = [
      ['LF', (t) => t],
      ['CRLF', (t) => t.replace(/\n/g, '\r\n')],
      ['BOM + LF', (t) => `\ufeff${t}`],
      ['BOM + CRLF', (t) => `\ufeff${t.replace(/\n/g, '\r\n')}`],
    ];
    for (const [name, encode] of variants) {
      it(`${name}: inserts, replaces and removes status in the first and the last document, keeping the rest byte for byte`, async () => {
        const original = encode(TRICKY);
        expect(parseResourceText(original, file).every((d) => d.yamlErrors.length === 0)).toBe(true);
        await writeFile(file, original);
        for (const ref of [BENCH, SVC]) {
          expect((await writeStatus(file, ref, { phase: 'Running', message: 'a: "b"' })).outcome).toBe('written');
          expect((await writeStatus(file, ref, { phase: 'Succeeded', attempts: 2 })).outcome).toBe('written');
        }
        const text = await readFile(file, 'utf8');
        expect(statusOf(text.replace(/^\ufeff/, ''), 0)).toEqual({ phase: 'Succeeded', attempts: 2 });
        expect(statusOf(text.replace(/^\ufeff/, ''), 2)).toEqual({ phase: 'Succeeded', attempts: 2 });
        // The mark stays first, and no line ending of another style crept in.
        expect(text.startsWith('\ufeff')).toBe(original.startsWith('\ufeff'));
        if (original.includes('\r\n')) expect(text.replace(/\r\n/g, '')).not.toContain('\n');
        for (const ref of [BENCH, SVC]) await writeStatus(file, ref, undefined);
        expect(await readFile(file, 'utf8')).toBe(original);
      });

      it(`${name}: a file whose first line is its first key, as most are`, async () => {
        const original = encode(benchmark('plain'));
        await writeFile(file, original);
        const ref = { kind: 'Benchmark', name: 'plain', index: 0 };
        expect((await writeStatus(file, ref, { phase: 'Running' })).outcome).toBe('written');
        const text = await readFile(file, 'utf8');
        expect(text).toBe(original + encode('status:\n  phase: Running\n').replace(/^\ufeff/, ''));
        await writeStatus(file, ref, undefined);
        expect(await readFile(file, 'utf8')).toBe(original);
      });
    }
  });

  it('keeps awkward status values exact: multi-line text, strings that look like numbers or dates', async () => {
    await writeFile(file, service('a'));
    const status = { phase: 'Failed', message: 'line one\nline two: with colon\n', runId: '0123', startedAt: '2025-01-01T00:00:00Z', jobs: [{ id: '42', state: 'FAILED' }] };
    await writeStatus(file, { kind: 'Service', name: 'a', index: 0 }, status);
    const text = await readFile(file, 'utf8');
    expect(text.startsWith(service('a'))).toBe(true);
    expect((parse(text) as { status: unknown }).status).toEqual(status);
    expect((await writeStatus(file, { kind: 'Service', name: 'a', index: 0 }, status)).outcome).toBe('unchanged');
  });

  it('finds the document by kind and name when its index moved, and says gone when it is not there', async () => {
    await writeFile(file, `${service('new')}---\n${TRICKY}`);
    await writeStatus(file, BENCH, { phase: 'Running' });
    const text = await readFile(file, 'utf8');
    expect(statusOf(text, 1)).toEqual({ phase: 'Running' });
    expect(statusOf(text, 0)).toBeUndefined();
    expect((await writeStatus(file, { kind: 'Benchmark', name: 'nope', index: 0 }, { phase: 'Running' })).outcome).toBe('gone');
    expect((await writeStatus(join(dir, 'missing.yaml'), BENCH, { phase: 'Running' })).outcome).toBe('gone');
    expect(await readFile(file, 'utf8')).toBe(text);
  });

  it('never touches a file with YAML errors or a flow-style top level, and says why', async () => {
    const broken = `${benchmark('fs-load')}---\nspec: [1, 2\nx: 1\n`;
    await writeFile(file, broken);
    await expect(writeStatus(file, BENCH, { phase: 'Running' })).rejects.toThrow(StoreError);
    await expect(writeStatus(file, BENCH, { phase: 'Running' })).rejects.toThrow(/res\.yaml has invalid YAML \(line 14, column \d+: .*\); status not written, fix the syntax first/);
    expect(await readFile(file, 'utf8')).toBe(broken);

    const flow = '{apiVersion: aifb.io/v1alpha1, kind: Service, metadata: {name: nfs}, spec: {type: file-storage}}\n';
    await writeFile(file, flow);
    await expect(writeStatus(file, { kind: 'Service', name: 'nfs', index: 0 }, { phase: 'Ready' })).rejects.toThrow(/flow mapping.*block mapping/);
    expect(await readFile(file, 'utf8')).toBe(flow);
  });

  it('never loses a user edit made while the status is being written', async () => {
    await writeFile(file, TRICKY);
    const userText = TRICKY.replace('workers: 2      # two workers', 'workers: 8      # the user changed this');
    const attempts: number[] = [];
    const r = await writeStatus(file, BENCH, { phase: 'Running' }, {
      beforeRename: async (attempt) => {
        attempts.push(attempt);
        if (attempt === 1) await writeFile(file, userText);
      },
    });
    expect(r.outcome).toBe('written');
    expect(attempts).toEqual([1, 2]);
    const text = await readFile(file, 'utf8');
    expect(text).toContain('workers: 8      # the user changed this');
    expect(statusOf(text, 0)).toEqual({ phase: 'Running' });
    const cut = userText.indexOf('    # maxRequests: 100\n') + '    # maxRequests: 100\n'.length;
    expect(text).toBe(`${userText.slice(0, cut)}status:\n  phase: Running\n${userText.slice(cut)}`);
    expect((await readdir(dir)).sort()).toEqual(['res.yaml']);
  });

  it('gives up with a StoreError when the file keeps changing, leaving the last user text', async () => {
    await writeFile(file, TRICKY);
    let n = 0;
    const write = writeStatus(file, BENCH, { phase: 'Running' }, {
      beforeRename: async () => writeFile(file, `${TRICKY}# edit ${++n}\n`),
    });
    await expect(write).rejects.toThrow(/changed 5 times/);
    expect(await readFile(file, 'utf8')).toBe(`${TRICKY}# edit 5\n`);
    expect((await readdir(dir)).sort()).toEqual(['res.yaml']);
  });

  it('says gone when the file is deleted during the write', async () => {
    await writeFile(file, TRICKY);
    const { rm } = await import('node:fs/promises');
    const r = await writeStatus(file, BENCH, { phase: 'Running' }, { beforeRename: () => rm(file) });
    expect(r.outcome).toBe('gone');
    expect(await readdir(dir)).toEqual([]);
  });

  it('keeps the file mode and writes through a symlink without replacing it', async () => {
    await writeFile(file, TRICKY);
    await chmod(file, 0o640);
    await writeStatus(file, BENCH, { phase: 'Running' });
    expect((await stat(file)).mode & 0o777).toBe(0o640);

    const link = join(dir, 'link.yaml');
    await symlink(file, link);
    await writeStatus(link, BENCH, { phase: 'Succeeded' });
    expect((await lstat(link)).isSymbolicLink()).toBe(true);
    expect(statusOf(await readFile(file, 'utf8'), 0)).toEqual({ phase: 'Succeeded' });
  });

  it('works on an indented top-level mapping', async () => {
    const text = '  apiVersion: aifb.io/v1alpha1\n  kind: Service\n  metadata:\n    name: nfs\n  spec:\n    type: file-storage\n';
    await writeFile(file, text);
    await writeStatus(file, { kind: 'Service', name: 'nfs', index: 0 }, { phase: 'Ready', attempts: 2 });
    expect(await readFile(file, 'utf8')).toBe(`${text}  status:\n    phase: Ready\n    attempts: 2\n`);
    await writeStatus(file, { kind: 'Service', name: 'nfs', index: 0 }, { phase: 'Failed' });
    expect(await readFile(file, 'utf8')).toBe(`${text}  status:\n    phase: Failed\n`);
    await writeStatus(file, { kind: 'Service', name: 'nfs', index: 0 }, undefined);
    expect(await readFile(file, 'utf8')).toBe(text);
  });

  it('keeps a column-0 comment after a nested status when replacing it, and nothing piles up over many writes', async () => {
    const start = `${service('a')}status:\n  phase: Running\n  results:\n    requests: 1\n\n# about the next one\n---\n${service('b')}`;
    await writeFile(file, start);
    const ref = { kind: 'Service', name: 'a', index: 0 };
    const status = { phase: 'Failed', message: 'first line\n# looks like a comment\nlast line' };
    for (let i = 0; i < 3; i++) await writeStatus(file, ref, status);
    const text = await readFile(file, 'utf8');
    expect(text.startsWith(`${service('a')}status:\n`)).toBe(true);
    expect(text.endsWith(`\n\n# about the next one\n---\n${service('b')}`)).toBe(true);
    expect(text.match(/# looks like a comment/g)).toHaveLength(1);
    expect(statusOf(text, 0)).toEqual(status);
    await writeStatus(file, ref, undefined);
    expect(await readFile(file, 'utf8')).toBe(`${service('a')}\n# about the next one\n---\n${service('b')}`);
  });

  it('inserts after the last spec line even when a column-0 comment sits inside the spec', async () => {
    const text = `${service('a').replace('  command:', '# a note at column 0\n  command:')}\n# trailer\n`;
    await writeFile(file, text);
    await writeStatus(file, { kind: 'Service', name: 'a', index: 0 }, { phase: 'Ready' });
    expect(await readFile(file, 'utf8')).toBe(text.replace("\n\n# trailer", "\nstatus:\n  phase: Ready\n\n# trailer"));
  });
});
