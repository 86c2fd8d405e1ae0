import { describe, expect, it } from 'vitest';
import { Load, Workload } from '../../../api/schemas.js';
import { ConfigError } from '../../../clients/client.js';
import { FileStorageClient } from '../../../clients/file-storage.js';
import { CLIENT_TYPES, createClient } from '../../../clients/registry.js';
import type { RunnerSpec } from '../../../api/runner-contract.js';
import { checkSpec } from '../../../clients/runner/spec.js';

const spec = (workload: Record<string, unknown>): RunnerSpec => ({
  benchmark: 'b',
  runId: 'run-1',
  ranks: 1,
  workload: Workload.parse(workload),
  load: Load.parse({ duration: '2s', warmup: '300ms' }),
});

describe('createClient', () => {
  it('builds the client registered for workload.type', () => {
    const c = createClient(spec({ type: 'file-storage', basePath: '/tmp/x' }), { rank: 3 });
    expect(c).toBeInstanceOf(FileStorageClient);
    expect((c as FileStorageClient).dir).toBe('/tmp/x/run-1-r3');
    expect(CLIENT_TYPES).toEqual(['file-storage', 'llm']);
  });

  it('throws a ConfigError listing every problem with its path', () => {
    expect(() => createClient(spec({ type: 'file-storage', fileSizes: { '1XB': 1, '2YB': 1 } }), { rank: 0 })).toThrow(ConfigError);
    try {
      createClient(spec({ type: 'file-storage', fileSizes: { '1XB': 1, '2YB': 1 } }), { rank: 0 });
    } catch (e) {
      expect((e as ConfigError).problems.map((p) => p.path)).toEqual(['workload.fileSizes["1XB"]', 'workload.fileSizes["2YB"]']);
    }
  });

  it('names the field when no client exists for a type', () => {
    const bad = { ...spec({ type: 'file-storage' }), workload: { type: 'gopher' } } as unknown as RunnerSpec;
    expect(() => createClient(bad, { rank: 0 })).toThrow(/workload.type: "gopher" has no client/);
  });
});

describe('checkSpec', () => {
  const good = () => JSON.parse(JSON.stringify(spec({ type: 'file-storage' })));

  it('accepts what the controller writes, keeping durations in ms', () => {
    const r = checkSpec(good());
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.spec.load).toMatchObject({ duration: 2000, warmup: 300 });
  });

  it('keeps an llm workload timeout in ms, as the controller parsed it', () => {
    const doc = good();
    doc.workload = { type: 'llm', api: 'chat', prompts: ['hi'], maxTokens: 8, temperature: 0, stream: true, timeout: 2000 };
    const r = checkSpec(doc);
    expect(r.ok).toBe(true);
    if (r.ok && r.spec.workload.type === 'llm') expect(r.spec.workload.timeout).toBe(2000);
  });

  it('names each bad field', () => {
    const doc = good();
    doc.load.mode = 'open';
    doc.load.duration = '2s';
    doc.runId = '../etc';
    doc.ranks = 0;
    const r = checkSpec(doc);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.problems.map((p) => p.path).sort()).toEqual(['load.duration', 'ranks', 'runId']);
  });

  it('catches an open loop without a rate', () => {
    const doc = good();
    doc.load.mode = 'open';
    const r = checkSpec(doc);
    expect(!r.ok && r.problems).toEqual([{ path: 'load.rate', message: 'open loop needs a rate (requests per second)' }]);
  });
});
