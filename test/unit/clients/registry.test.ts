import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { Load } from '../../../api/schemas.js';
import { ConfigError } from '../../../clients/client.js';
import { FileStorageClient } from '../../../clients/file-storage/client.js';
import { createClient, RunnerSpec, WORKLOADS, Workload } from '../../../clients/registry.js';
import { checkSpec, encodeSpec } from '../../../clients/runner/spec.js';
import { validateResource } from '../../../controller/api/validate.js';

const spec = (workload: Record<string, unknown>): RunnerSpec => ({
  benchmark: 'b',
  runId: 'run-1',
  ranks: 1,
  workload: Workload.parse(workload),
  load: Load.parse({ duration: '2s', warmup: '300ms' }),
});

/** Folders under clients/ that are workload types: they have an index.ts (engine and runner are not). */
const workloadFolders = readdirSync('clients', { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(`clients/${d.name}/index.ts`))
  .map((d) => d.name)
  .sort();

describe('the registry', () => {
  it('lists every workload folder under clients/, each under its own type name', () => {
    expect(WORKLOADS.map((w) => w.type).sort()).toEqual(workloadFolders);
  });

  for (const w of WORKLOADS) {
    it(`${w.type}: its example exists, validates and runs this workload type`, () => {
      const text = readFileSync(`examples/${w.example}`, 'utf8');
      const types = parseAllDocuments(text)
        .map((d) => validateResource(d.toJS()))
        .map((r) => (r.ok && r.resource.kind === 'Benchmark' ? r.resource.spec.workload.type : r.ok ? r.kind : JSON.stringify(r.problems)));
      expect(types).toContain(w.type);
    });

    it(`${w.type}: declares its metrics with distinct names and the services it talks to`, () => {
      const names = w.metrics.map((m) => m.name);
      expect(new Set(names).size).toBe(names.length);
      expect(w.services.length).toBeGreaterThan(0);
      expect(w.summary.length).toBeGreaterThan(10);
    });
  }
});

describe('createClient', () => {
  it('builds the client registered for workload.type', async () => {
    const c = await createClient(spec({ type: 'file-storage', basePath: '/tmp/x' }), { rank: 3 });
    expect(c).toBeInstanceOf(FileStorageClient);
    expect((c as FileStorageClient).dir).toBe('/tmp/x/run-1-r3');
  });

  it('throws a ConfigError listing every problem with its path', async () => {
    const bad = spec({ type: 'file-storage', fileSizes: { '1XB': 1, '2YB': 1 } });
    await expect(createClient(bad, { rank: 0 })).rejects.toThrow(ConfigError);
    const e = await createClient(bad, { rank: 0 }).catch((x: ConfigError) => x);
    expect((e as ConfigError).problems.map((p) => p.path)).toEqual(['workload.fileSizes["1XB"]', 'workload.fileSizes["2YB"]']);
  });

  it("reads the service's token where the runner runs, or fails as a config problem naming the field", async () => {
    const withToken = (token: Record<string, string>): RunnerSpec => ({
      ...spec({ type: 'http' }),
      service: { scheme: 'http', host: '127.0.0.1', port: 1, credentials: { token: token as never } },
    });
    const e = await createClient(withToken({ env: 'AIFB_NO_SUCH_TOKEN' }), { rank: 0 }).catch((x: ConfigError) => x);
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as ConfigError).problems).toEqual([{ path: 'service.credentials.token', message: expect.stringMatching(/^environment variable AIFB_NO_SUCH_TOKEN is not set/) }]);
    process.env.AIFB_TEST_TOKEN = 'tok';
    try {
      await expect(createClient(withToken({ env: 'AIFB_TEST_TOKEN' }), { rank: 0 })).resolves.toBeDefined();
    } finally {
      delete process.env.AIFB_TEST_TOKEN;
    }
  });

  it('names the field when no client exists for a type', async () => {
    const bad = { ...spec({ type: 'file-storage' }), workload: { type: 'gopher' } } as unknown as RunnerSpec;
    await expect(createClient(bad, { rank: 0 })).rejects.toThrow(/workload.type: "gopher" has no client/);
  });
});

describe('the runner spec: written and read by the same schemas', () => {
  it('round-trips: durations parsed to ms are written as text and read back as the same ms', () => {
    const s = spec({ type: 'llm', timeout: '2.5s' });
    const written = JSON.parse(JSON.stringify(encodeSpec(s)));
    expect(written.load).toMatchObject({ duration: '2000ms', warmup: '300ms' });
    expect(written.workload.timeout).toBe('2500ms');
    const r = checkSpec(written);
    expect(r).toEqual({ ok: true, spec: s });
  });

  it('names each bad field', () => {
    const doc = JSON.parse(JSON.stringify(encodeSpec(spec({ type: 'file-storage' }))));
    doc.load.mode = 'open';
    doc.load.duration = 'two seconds';
    doc.runId = '../etc';
    doc.ranks = 0;
    const r = checkSpec(doc);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.problems.map((p) => p.path).sort()).toEqual(['load.duration', 'ranks', 'runId']);
  });

  it('catches an open loop without a rate', () => {
    const doc = JSON.parse(JSON.stringify(encodeSpec(spec({ type: 'file-storage' }))));
    doc.load.mode = 'open';
    const r = checkSpec(doc);
    expect(!r.ok && r.problems).toEqual([{ path: 'load.rate', message: 'open loop needs a rate (requests per second), or a sweep of rates' }]);
  });
});
