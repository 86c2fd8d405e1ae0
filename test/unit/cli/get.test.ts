import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { runGet, type GetOptions } from '../../../controller/cli/get.js';
import type { ResourceView } from '../../../controller/server/view.js';
import { FakeSource, NOW, NO_GLOBALS, capture, opened, views } from './fixtures.js';

const opts = (o: Partial<GetOptions> & { kind: string }, items: ResourceView[] = views()): GetOptions => ({
  ...NO_GLOBALS,
  now: () => NOW,
  open: opened(new FakeSource(items)),
  ...o,
});

describe('aifbctl get (table)', () => {
  it('prints benchmarks sorted by name, NAME first, AGE last, <none> for empty cells', async () => {
    const io = capture();
    expect(await runGet(opts({ kind: 'benchmarks' }), io)).toBe(0);
    expect(io.out).toBe(
      [
        'NAME       SERVICE       PHASE      REQS    RPS     P99     AGE',
        'broken     file-storage  Invalid    <none>  <none>  <none>  <unknown>',
        'fs         postgresql    Running    <none>  <none>  <none>  5s',
        'vllm-load  vllm          Succeeded  1500    50.0    12.3ms  3m',
        '',
      ].join('\n'),
    );
    expect(io.err).toBe('');
  });

  it("shows a running benchmark's progress until its results arrive", async () => {
    const io = capture();
    const items = views().map((v) =>
      v.metadata.name === 'fs' ? { ...v, status: { ...v.status, progress: { elapsedMs: 4000, requests: 812, errors: 0, rps: 203.2, p99Ms: 4.5 } } } : v,
    );
    expect(await runGet(opts({ kind: 'benchmarks', name: 'fs' }, items), io)).toBe(0);
    expect(io.out.split('\n')[1]).toBe('fs    postgresql  Running  812   203.2  4.5ms  5s');
  });

  it('prints services and monitoring stacks with their endpoints', async () => {
    const svc = capture();
    await runGet(opts({ kind: 'svc' }), svc);
    expect(svc.out).toBe('NAME  TYPE  PHASE  ENDPOINT     AGE\nvllm  vllm  Ready  node01:8000  120m\n');
    const ms = capture();
    await runGet(opts({ kind: 'monitoringstacks' }), ms);
    expect(ms.out).toBe('NAME  PHASE  PROMETHEUS   GRAFANA      AGE\nmon   Ready  node02:9090  node02:3000  4d\n');
  });

  it('adds attempts, errors, p50, duration and the reason in wide mode, keeping AGE last', async () => {
    const io = capture();
    await runGet(opts({ kind: 'benchmarks', output: 'wide' }), io);
    const lines = io.out.trimEnd().split('\n');
    expect(lines[0]!.split(/\s+/)).toEqual(['NAME', 'SERVICE', 'PHASE', 'REQS', 'RPS', 'P99', 'ATTEMPTS', 'ERRORS', 'P50', 'DURATION', 'MESSAGE', 'AGE']);
    expect(lines[1]!.split(/\s+/)).toEqual(['broken', 'file-storage', 'Invalid', '<none>', '<none>', '<none>', '<none>', '<none>', '<none>', '<none>', 'InvalidSpec', '<unknown>']);
    expect(lines[2]).toMatch(/^fs\s+postgresql\s+Running\s+.*\s2\s+.*runner started\s+5s$/);
    expect(lines[3]!.split(/\s+/)).toEqual(['vllm-load', 'vllm', 'Succeeded', '1500', '50.0', '12.3ms', '1', '3', '4.2ms', '30.0s', '<none>', '3m']);
  });

  it('prints every kind for `all`, names prefixed with the kind', async () => {
    const io = capture();
    await runGet(opts({ kind: 'all' }), io);
    const sections = io.out.split('\n\n');
    expect(sections).toHaveLength(3);
    expect(sections[0]).toContain('benchmark/vllm-load');
    expect(sections[1]).toContain('service/vllm');
    expect(sections[2]).toContain('monitoringstack/mon');
  });

  it('says "No resources found." on stderr and exits 0 for an empty list', async () => {
    const io = capture();
    expect(await runGet(opts({ kind: 'benchmarks' }, []), io)).toBe(0);
    expect(io.out).toBe('');
    expect(io.err).toBe('No resources found.\n');
  });

  it('fails with a message naming the valid types for an unknown type', async () => {
    const io = capture();
    expect(await runGet(opts({ kind: 'pods' }), io)).toBe(1);
    expect(io.err).toBe('Error: unknown resource type "pods"; use one of services, benchmarks, monitoringstacks, all\n');
  });

  it('fails when a named resource does not exist', async () => {
    const io = capture();
    expect(await runGet(opts({ kind: 'benchmark', name: 'nope' }), io)).toBe(1);
    expect(io.err).toBe('Error: benchmark "nope" not found\n');
  });

  it('warns on stderr about files that could not be read', async () => {
    const io = capture();
    const o = opts({ kind: 'benchmarks' });
    o.open = opened(new FakeSource(views()), [{ file: '/r/bad.yaml', message: 'line 3, column 1: bad indentation' }]);
    await runGet(o, io);
    expect(io.err).toBe('Warning: /r/bad.yaml: line 3, column 1: bad indentation\n');
  });
});

describe('aifbctl get -o json|yaml', () => {
  it('prints a list that parses back to the same views', async () => {
    const io = capture();
    await runGet(opts({ kind: 'benchmarks', output: 'json' }), io);
    const doc = JSON.parse(io.out);
    expect(doc.apiVersion).toBe('aifb.io/v1alpha1');
    expect(doc.kind).toBe('BenchmarkList');
    const expected = views()
      .filter((v) => v.kind === 'Benchmark')
      .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
    expect(doc.items).toEqual(expected);
  });

  it('prints one named view bare, in YAML', async () => {
    const io = capture();
    expect(await runGet(opts({ kind: 'bench', name: 'vllm-load', output: 'yaml' }), io)).toBe(0);
    expect(parse(io.out)).toEqual(views()[0]);
  });

  it('prints a List for `all`', async () => {
    const io = capture();
    await runGet(opts({ kind: 'all', output: 'yaml' }), io);
    const doc = parse(io.out);
    expect(doc.kind).toBe('List');
    expect(doc.items).toHaveLength(5);
  });
});

describe('aifbctl get --watch', () => {
  it('prints the table once, then only the rows whose resource changed', async () => {
    let poll = 0;
    let clock = NOW;
    const io = capture();
    const code = await runGet(
      {
        ...NO_GLOBALS,
        kind: 'benchmarks',
        watch: true,
        maxIterations: 3,
        sleep: async () => undefined,
        // AGE ticks on every poll; that alone must not reprint a row.
        now: () => (clock += 1_000),
        open: async () => {
          poll++;
          const items = views().filter((v) => v.metadata.name !== 'broken');
          if (poll >= 2) items[1]!.status = { phase: 'Succeeded', attempts: 2 };
          return { source: new FakeSource(items), origin: 'disk', problems: async () => [] };
        },
      },
      io,
    );
    expect(code).toBe(0);
    expect(poll).toBe(3);
    const lines = io.out.trimEnd().split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(/^NAME\s+SERVICE/);
    expect(lines[1]).toMatch(/^fs\s+postgresql\s+Running/);
    expect(lines[2]).toMatch(/^vllm-load\s+/);
    expect(lines[3]).toMatch(/^fs\s+postgresql\s+Succeeded/);
  });

  it('stops when its signal is aborted', async () => {
    const ac = new AbortController();
    let polls = 0;
    const io = capture();
    const code = await runGet(
      {
        ...NO_GLOBALS,
        kind: 'benchmarks',
        watch: true,
        signal: ac.signal,
        now: () => NOW,
        sleep: async () => ac.abort(),
        open: async () => {
          polls++;
          return { source: new FakeSource(views()), origin: 'api', problems: async () => [] };
        },
      },
      io,
    );
    expect(code).toBe(0);
    expect(polls).toBe(1);
  });
});
