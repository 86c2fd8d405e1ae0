import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MetaStore } from '../../../controller/store/meta-store.js';
import { parseResourceText } from '../../../controller/store/parse.js';
import { buildView, loadViewsFromDisk } from '../../../controller/store/views.js';
import { benchmark, service, tempDir } from './fixtures.js';

const NOW = new Date('2025-03-01T10:00:00Z');

describe('loadViewsFromDisk', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let res: string;
  let state: string;
  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir());
    res = join(dir, 'resources');
    state = join(dir, 'state');
    await mkdir(res);
  });
  afterEach(() => cleanup());

  it('joins files with metadata: uid, generation, creation time, events and the status in the file', async () => {
    const text = `${service('nfs')}status:\n  phase: Ready\n  observedGeneration: 1\n`;
    await writeFile(join(res, 'svc.yaml'), text);
    const meta = new MetaStore(state);
    const m = meta.observe('Service/nfs', parseResourceText(text, 'x')[0].specHash!, NOW);
    meta.addEvent('Service/nfs', { type: 'Normal', reason: 'Ready', message: 'service answered', time: NOW.toISOString() });
    meta.flush();

    const { views, fileErrors } = await loadViewsFromDisk(res, state, { now: NOW });
    expect(fileErrors).toEqual([]);
    expect(views).toEqual([
      {
        apiVersion: 'aifb.io/v1alpha1',
        kind: 'Service',
        metadata: { name: 'nfs', file: join(res, 'svc.yaml'), index: 0, uid: m.uid, generation: 1, creationTimestamp: NOW.toISOString(), labels: undefined },
        spec: { type: 'file-storage', command: ['sleep', '1000'] },
        status: { phase: 'Ready', observedGeneration: 1 },
        events: [{ type: 'Normal', reason: 'Ready', message: 'service answered', time: NOW.toISOString() }],
      },
    ]);
  });

  it('shows a spec edited while the controller was down as the next generation', async () => {
    await writeFile(join(res, 'b.yaml'), benchmark('x'));
    new MetaStore(state).observe('Benchmark/x', 'an older hash');
    const { views } = await loadViewsFromDisk(res, state, { now: NOW });
    expect(views[0].metadata.generation).toBe(2);
  });

  it('shows an invalid document as Invalid with its problems, unless the file already has a status', async () => {
    await writeFile(join(res, 'a.yaml'), benchmark('bad').replace('workers: 2', 'workers: -1'));
    await writeFile(join(res, 'b.yaml'), `${benchmark('stale').replace('workers: 2', 'workers: -1')}status:\n  phase: Invalid\n  message: from the controller\n`);
    const { views } = await loadViewsFromDisk(res, state, { now: NOW });
    expect(views.map((v) => v.metadata.name)).toEqual(['bad', 'stale']);
    expect(views[0].status.phase).toBe('Invalid');
    expect(views[0].status.conditions).toEqual([
      { type: 'Valid', status: 'False', reason: 'InvalidSpec', message: expect.stringMatching(/^spec\.load\.workers: /), lastTransitionTime: NOW.toISOString() },
    ]);
    expect(views[0].metadata.uid).toBeUndefined();
    expect(views[1].status).toEqual({ phase: 'Invalid', message: 'from the controller' });
  });

  it('reports unreadable files and documents without a name as file errors, and never writes the state folder', async () => {
    await mkdir(join(res, 'dir.yaml'));
    await writeFile(join(res, 'broken.yaml'), 'kind: [Benchmark\n');
    await writeFile(join(res, 'ok.yaml'), service('nfs'));
    const { views, fileErrors } = await loadViewsFromDisk(res, state, { now: NOW });
    expect(views.map((v) => v.metadata.name)).toEqual(['nfs']);
    expect(fileErrors.map((e) => e.file)).toEqual([join(res, 'dir.yaml'), join(res, 'broken.yaml')]);
    expect(fileErrors[1].message).toMatch(/^document 1: invalid YAML: line \d+, column \d+: /);
    const { existsSync } = await import('node:fs');
    expect(existsSync(state)).toBe(false);
  });

  it('buildView prefers the status the controller holds in memory', () => {
    const [doc] = parseResourceText(`${service('nfs')}status:\n  phase: Pending\n`, '/r/s.yaml');
    expect(buildView(doc, undefined, { phase: 'Ready' }).status).toEqual({ phase: 'Ready' });
    expect(buildView(doc, undefined).status).toEqual({ phase: 'Pending' });
    const labelled = parseResourceText(benchmark('x').replace('  name: x\n', '  name: x\n  labels: {team: ai}\n'), '/r/b.yaml')[0];
    expect(buildView(labelled, undefined).metadata.labels).toEqual({ team: 'ai' });
  });
});
