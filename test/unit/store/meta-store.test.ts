import { existsSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MAX_EVENTS, MetaStore, metaFileName } from '../../../controller/store/meta-store.js';
import { tempDir } from './fixtures.js';

const T0 = new Date('2025-03-01T10:00:00Z');
const at = (s: number) => new Date(T0.getTime() + s * 1000).toISOString();

describe('MetaStore', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let logged: string[];
  const open = () => new MetaStore(dir, { now: () => T0, log: (l) => logged.push(l) });
  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir());
    logged = [];
  });
  afterEach(() => cleanup());

  it('gives a new uid and generation 1 on first sight, and bumps the generation only when the spec changes', () => {
    const store = open();
    const first = store.observe('Benchmark/x', 'h1', T0);
    expect(first).toMatchObject({ key: 'Benchmark/x', generation: 1, specHash: 'h1', createdAt: T0.toISOString(), events: [] });
    expect(first.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(store.observe('Benchmark/x', 'h1').generation).toBe(1);
    const second = store.observe('Benchmark/x', 'h2');
    expect(second).toMatchObject({ generation: 2, uid: first.uid, createdAt: first.createdAt });
    expect(store.observe('Benchmark/x', 'h2').generation).toBe(2);
    expect(store.observe('Benchmark/y', 'h1').uid).not.toBe(first.uid);
    expect(store.keys()).toEqual(['Benchmark/x', 'Benchmark/y']);
  });

  it('persists to one JSON file per resource and reloads it', async () => {
    const store = open();
    const m = store.observe('Service/nfs', 'h1');
    store.observe('Service/nfs', 'h2');
    store.addEvent('Service/nfs', { type: 'Normal', reason: 'Started', message: 'job 1 started', time: at(1) });
    expect(await readdir(join(dir, 'resources'))).toEqual(['Service.nfs.json']);
    // uid and generation are on disk at once; events are written together a moment later, or at flush.
    expect(open().get('Service/nfs')).toMatchObject({ uid: m.uid, generation: 2, events: [] });
    store.flush();
    const reloaded = open().get('Service/nfs');
    expect(reloaded).toEqual({ ...m, generation: 2, specHash: 'h2', events: [{ type: 'Normal', reason: 'Started', message: 'job 1 started', time: at(1) }] });
    expect(logged).toEqual([]);
  });

  it('hands out copies, so a caller cannot change the cache by accident', () => {
    const store = open();
    store.observe('Service/nfs', 'h1').generation = 99;
    store.get('Service/nfs')!.events.push({ type: 'Normal', reason: 'X', message: 'y', time: at(0) });
    expect(store.get('Service/nfs')).toMatchObject({ generation: 1, events: [] });
  });

  it('collapses back-to-back repeats into a count and keeps only the last 100 events', () => {
    const store = open();
    store.observe('Benchmark/x', 'h');
    store.addEvent('Benchmark/x', { type: 'Warning', reason: 'BackOff', message: 'retrying', time: at(1) });
    store.addEvent('Benchmark/x', { type: 'Warning', reason: 'BackOff', message: 'retrying', time: at(2) });
    store.addEvent('Benchmark/x', { type: 'Warning', reason: 'BackOff', message: 'retrying', time: at(3) });
    expect(store.get('Benchmark/x')!.events).toEqual([{ type: 'Warning', reason: 'BackOff', message: 'retrying', time: at(3), count: 3 }]);
    store.addEvent('Benchmark/x', { type: 'Normal', reason: 'Started', message: 'go', time: at(4) });
    store.addEvent('Benchmark/x', { type: 'Warning', reason: 'BackOff', message: 'retrying', time: at(5) });
    expect(store.get('Benchmark/x')!.events.map((e) => e.count ?? 1)).toEqual([3, 1, 1]);

    for (let i = 0; i < 150; i++) store.addEvent('Benchmark/x', { type: 'Normal', reason: 'Tick', message: `tick ${i}`, time: at(10 + i) });
    store.flush();
    const events = open().get('Benchmark/x')!.events;
    expect(events).toHaveLength(MAX_EVENTS);
    expect(events[0].message).toBe('tick 50');
    expect(events[MAX_EVENTS - 1].message).toBe('tick 149');
  });

  it('stamps events with the injected clock when no time is given', () => {
    const store = open();
    store.addEvent('Benchmark/x', { type: 'Normal', reason: 'Seen', message: 'hello' });
    expect(store.get('Benchmark/x')!.events[0].time).toBe(T0.toISOString());
  });

  it('keeps events of a resource never seen valid under generation 0, then starts at 1 with the same uid', () => {
    const store = open();
    store.addEvent('Benchmark/x', { type: 'Warning', reason: 'InvalidSpec', message: 'spec.load: bad', time: at(1) });
    const before = store.get('Benchmark/x')!;
    expect(before.generation).toBe(0);
    const after = store.observe('Benchmark/x', 'h1');
    expect(after).toMatchObject({ generation: 1, uid: before.uid });
    expect(after.events).toHaveLength(1);
  });

  it('moves a corrupt file aside, says so, and carries on without it', async () => {
    const res = join(dir, 'resources');
    open().observe('Service/good', 'h');
    await writeFile(join(res, 'Benchmark.bad.json'), '{"key": "Benchmark/bad", "uid": ');
    await writeFile(join(res, 'Benchmark.odd.json'), '{"key": "Benchmark/odd"}');
    await writeFile(join(res, 'Service.good.json.3141592'), 'half written');
    const store = open();
    expect(store.get('Benchmark/bad')).toBeUndefined();
    expect(store.get('Benchmark/odd')).toBeUndefined();
    expect(store.get('Service/good')?.generation).toBe(1);
    expect((await readdir(res)).sort()).toEqual(['Benchmark.bad.json.corrupt', 'Benchmark.odd.json.corrupt', 'Service.good.json']);
    expect(store.warnings).toHaveLength(2);
    expect(logged).toEqual(store.warnings);
    expect(logged[0]).toContain('Benchmark.bad.json.corrupt');
    expect(store.observe('Benchmark/bad', 'h').generation).toBe(1);
  });

  it('removes a resource and its file', () => {
    const store = open();
    store.observe('Service/nfs', 'h');
    store.remove('Service/nfs');
    store.remove('Service/never');
    expect(store.get('Service/nfs')).toBeUndefined();
    expect(existsSync(join(dir, 'resources', 'Service.nfs.json'))).toBe(false);
    expect(open().keys()).toEqual([]);
  });

  it('keeps odd names inside its folder and distinct', async () => {
    expect(metaFileName('Benchmark/vllm-load')).toBe('Benchmark.vllm-load.json');
    expect(metaFileName('Benchmark/../../etc')).not.toContain('/');
    expect(metaFileName('Benchmark/a.b')).not.toBe(metaFileName('Benchmark.a/b'));
    const store = open();
    store.observe('Benchmark/../../evil', 'h');
    expect(await readdir(join(dir, 'resources'))).toHaveLength(1);
    expect(open().get('Benchmark/../../evil')?.generation).toBe(1);
  });

  it('in read-only mode creates, moves and writes nothing', async () => {
    const ro = new MetaStore(join(dir, 'absent'), { readOnly: true, log: () => undefined });
    expect(ro.keys()).toEqual([]);
    expect(existsSync(join(dir, 'absent'))).toBe(false);
    open();
    await writeFile(join(dir, 'resources', 'Benchmark.bad.json'), 'nope');
    const ro2 = new MetaStore(dir, { readOnly: true, log: () => undefined });
    expect(ro2.warnings[0]).toContain('Benchmark.bad.json');
    expect(await readFile(join(dir, 'resources', 'Benchmark.bad.json'), 'utf8')).toBe('nope');
  });
});
