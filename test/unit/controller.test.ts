// The controller's wiring, in process: what it logs about a file that stops
// parsing (once per change, not at every rescan) and what it keeps running;
// and a burst's status writes, put off while it is queued, all land.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Controller } from '../../controller/controller.js';
import { LocalExecutor } from '../../controller/executor/local-executor.js';
import type { Logger } from '../../controller/runtime/logger.js';
import { resolvePaths } from '../../controller/runtime/paths.js';
import { parse } from 'yaml';

const VALID = `apiVersion: aifb.io/v1alpha1
kind: Service
metadata:
  name: ext
spec:
  type: http
  endpoint: { host: 127.0.0.1, port: 1 }
  readiness: { type: none }
`;
const BROKEN = VALID.replace('  readiness: { type: none }\n', '  readiness: [unclosed\n');

let controller: Controller | undefined;
afterEach(async () => {
  await controller?.stop();
  controller = undefined;
});

describe('Controller', () => {
  it('reports a file that stops parsing once per change, however many rescans follow', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aifb-controller-'));
    const paths = resolvePaths({ resources: join(dir, 'resources') }, {}, dir);
    mkdirSync(paths.resourcesDir, { recursive: true });
    const file = join(paths.resourcesDir, 'svc.yaml');
    writeFileSync(file, VALID);
    const warnings: string[] = [];
    const log: Logger = { info: () => {}, warn: (m) => warnings.push(m), error: (m) => warnings.push(`ERROR ${m}`) };
    controller = new Controller({ paths, executor: new LocalExecutor(paths.stateDir), log, resyncMs: 3_600_000 });
    await controller.start();
    await controller.idle();

    writeFileSync(file, BROKEN);
    for (let i = 0; i < 4; i++) {
      await controller.rescan();
      await controller.idle();
    }
    expect(warnings).toEqual(['Ignored unreadable resource file', 'Skipped status write']);
    // What the file defined before keeps its place in the API while the file is broken.
    expect((await controller.get('Service', 'ext'))?.status.phase).toBe('Ready');

    // Fixed, then broken again: that is a change, and it is reported again.
    writeFileSync(file, VALID);
    await controller.rescan();
    await controller.idle();
    writeFileSync(file, BROKEN);
    await controller.rescan();
    await controller.idle();
    expect(warnings).toEqual(['Ignored unreadable resource file', 'Skipped status write', 'Ignored unreadable resource file', 'Skipped status write']);
  });

  it('writes every status of a burst, those put off while it was queued too: each file once, with the status the API serves', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aifb-controller-'));
    const paths = resolvePaths({ resources: join(dir, 'resources') }, {}, dir);
    mkdirSync(paths.resourcesDir, { recursive: true });
    const n = 60;
    for (let i = 0; i < n; i++) writeFileSync(join(paths.resourcesDir, `svc-${i}.yaml`), VALID.replace('name: ext', `name: ext-${i}`));
    const log: Logger = { info: () => {}, warn: () => {}, error: () => {} };
    controller = new Controller({ paths, executor: new LocalExecutor(paths.stateDir), log, resyncMs: 3_600_000, workers: 2 });
    await controller.start();
    await controller.idle();
    const metrics = await controller.metrics.registry.metrics();
    const written = metrics
      .split('\n')
      .filter((l) => l.startsWith('aifb_status_writes_total{') && l.includes('result="written"'))
      .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
    // Every Service here goes Ready in its first reconcile: one write each, none of them put off and lost.
    expect(written).toBe(n);
    for (let i = 0; i < n; i++) {
      const file = parse(readFileSync(join(paths.resourcesDir, `svc-${i}.yaml`), 'utf8')) as { status?: { phase?: string } };
      expect(file.status?.phase, `svc-${i}.yaml`).toBe('Ready');
      expect((await controller.get('Service', `ext-${i}`))?.status.phase).toBe('Ready');
    }
  });
});

