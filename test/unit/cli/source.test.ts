import { mkdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runGet } from '../../../controller/cli/get.js';
import { openSource } from '../../../controller/cli/source.js';
import { buildApp } from '../../../controller/server/app.js';
import { startServer } from '../../../controller/server/server.js';
import { benchmarkYaml, tempDirs, type TempDirs } from './files.fixture.js';
import { FakeSource, capture, views } from './fixtures.js';

/** A URL on which nothing listens: a port the OS just handed out and took back. */
async function closedUrl(): Promise<string> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as { port: number }).port;
  await new Promise((resolve) => s.close(resolve));
  return `http://127.0.0.1:${port}`;
}

let t: TempDirs;
beforeEach(async () => {
  t = await tempDirs();
  await mkdir(t.resources);
  await writeFile(path.join(t.resources, 'disk.yaml'), benchmarkYaml('on-disk'));
  await writeFile(path.join(t.resources, 'bad.yaml'), benchmarkYaml('bad-one', 'forever'));
});
afterEach(async () => {
  await t.cleanup();
});

describe('data source', () => {
  it('reads the files when the status API is down', async () => {
    const globals = { resourcesDir: t.resources, stateDir: path.join(t.root, '.aifb'), serverUrl: await closedUrl() };
    const src = await openSource(globals);
    expect(src.origin).toBe('disk');
    expect((await src.source.list('Benchmark')).map((v) => v.metadata.name).sort()).toEqual(['bad-one', 'on-disk']);

    const io = capture();
    expect(await runGet({ ...globals, kind: 'benchmarks' }, io)).toBe(0);
    const lines = io.out.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^NAME\s+SERVICE\s+PHASE\s+REQS\s+RPS\s+P99\s+AGE$/);
    expect(lines[1]).toMatch(/^bad-one\s+file-storage\s+Invalid\s/);
    expect(lines[2]).toMatch(/^on-disk\s+file-storage\s/);
    // Nothing about the fallback itself in table mode.
    expect(io.err).toBe('');

    const json = capture();
    await runGet({ ...globals, kind: 'benchmarks', output: 'json' }, json);
    const doc = JSON.parse(json.out);
    expect(doc.kind).toBe('BenchmarkList');
    expect(doc.items[1].metadata).toMatchObject({ name: 'on-disk', file: path.join(t.resources, 'disk.yaml'), index: 0 });
  });

  it('asks the status API when it answers, not the files', async () => {
    const server = await startServer(buildApp({ source: new FakeSource(views()) }), { port: 0 });
    try {
      const src = await openSource({ resourcesDir: t.resources, stateDir: path.join(t.root, '.aifb'), serverUrl: server.url });
      expect(src.origin).toBe('api');
      expect((await src.source.list('Benchmark')).map((v) => v.metadata.name)).toEqual(['broken', 'fs', 'vllm-load']);
      expect(await src.source.get('Benchmark', 'on-disk')).toBeUndefined();
      expect((await src.source.get('Service', 'vllm'))?.status.phase).toBe('Ready');
    } finally {
      await server.close();
    }
  });

  it('reports a missing resources folder instead of failing', async () => {
    const io = capture();
    const code = await runGet({ resourcesDir: path.join(t.root, 'nope'), stateDir: path.join(t.root, '.aifb'), serverUrl: await closedUrl(), kind: 'all' }, io);
    expect(code).toBe(0);
    expect(io.err).toContain('the resources folder does not exist');
    expect(io.err).toContain('No resources found.');
  });
});
