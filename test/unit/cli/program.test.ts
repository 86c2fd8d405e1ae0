import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildProgram } from '../../../controller/cli/program.js';
import { benchmarkYaml, tempDirs, type TempDirs } from './files.fixture.js';
import { capture } from './fixtures.js';

let t: TempDirs;
beforeEach(async () => {
  t = await tempDirs();
});
afterEach(async () => {
  await t.cleanup();
});

async function run(args: string[]) {
  const io = capture();
  let code = 0;
  const program = buildProgram(io, (c) => {
    code = c;
  });
  program.exitOverride();
  for (const sub of program.commands) sub.exitOverride();
  try {
    await program.parseAsync(args, { from: 'user' });
  } catch (e) {
    code = (e as { exitCode?: number }).exitCode ?? 1;
  }
  return { ...io, code };
}

describe('aifbctl command line', () => {
  it('--help lists the verbs, the global options and examples', async () => {
    const r = await run(['--help']);
    expect(r.code).toBe(0);
    for (const word of ['get', 'describe', 'apply', 'delete', 'validate', '--resources', '--state', '--server', 'Examples:', 'aifbctl get benchmarks']) {
      expect(r.out).toContain(word);
    }
  });

  it('get --help shows its own examples and output formats', async () => {
    const r = await run(['get', '--help']);
    expect(r.out).toContain('aifbctl get bench vllm-load -o yaml');
    expect(r.out).toContain('"wide"');
  });

  it('rejects an unknown output format on stderr with a non-zero exit', async () => {
    const r = await run(['get', 'benchmarks', '-o', 'xml']);
    expect(r.code).not.toBe(0);
    expect(r.err).toContain('xml');
  });

  it('rejects a bad --interval before polling anything', async () => {
    const r = await run(['get', 'benchmarks', '--watch', '--interval', 'soon']);
    expect(r.code).not.toBe(0);
    expect(r.err).toContain('e.g. --interval 2s');
  });

  it('runs validate, apply, get and delete end to end against a folder', async () => {
    const res = path.join(t.root, 'resources');
    await mkdir(res);
    const file = await t.write('b.yaml', benchmarkYaml('e2e'));
    // Port 1 refuses connections, so get reads the folder.
    const g = ['--resources', res, '--server', 'http://127.0.0.1:1'];
    expect((await run([...g, 'validate', file])).out).toBe(`${file}: Benchmark/e2e valid\n`);
    expect((await run([...g, 'apply', '-f', file])).out).toBe('benchmark/e2e created\n');
    const got = await run([...g, 'get', 'benchmarks', '-o', 'json']);
    expect(JSON.parse(got.out).items.map((v: { metadata: { name: string } }) => v.metadata.name)).toEqual(['e2e']);
    const del = await run([...g, 'delete', 'benchmark', 'e2e']);
    expect(del.out).toBe('benchmark "e2e" deleted\n');
    const empty = await run([...g, 'get', 'benchmarks']);
    expect(empty.code).toBe(0);
    expect(empty.err).toBe('No resources found.\n');
  });

  it('exits 1 from describe when the resource is missing', async () => {
    await writeFile(path.join(t.root, 'x.yaml'), '');
    const r = await run(['--resources', t.root, '--state', path.join(t.root, '.aifb'), '--server', 'http://127.0.0.1:1', 'describe', 'benchmark', 'ghost']);
    expect(r.code).toBe(1);
    expect(r.err).toBe('Error: benchmark "ghost" not found\n');
  });
});
