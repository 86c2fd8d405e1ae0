// The controller's scans at rest: a rescan after its own status writes
// reconciles nothing, an edited file reconciles what it holds, and the
// views' version moves with every change the status API could show.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Controller } from '../../controller/controller.js';
import { LocalExecutor } from '../../controller/executor/local-executor.js';
import { silentLogger } from '../../controller/runtime/logger.js';
import { resolvePaths } from '../../controller/runtime/paths.js';

const svc = (name: string, port = 1) => `apiVersion: aifb.io/v1alpha1
kind: Service
metadata:
  name: ${name}
spec:
  type: http
  endpoint: { host: 127.0.0.1, port: ${port} }
  readiness: { type: none }
`;

let controller: Controller | undefined;
afterEach(async () => {
  await controller?.stop();
  controller = undefined;
});

async function reconciles(c: Controller): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const v of (await c.metrics.reconciles.get()).values) out[String(v.labels.kind)] = (out[String(v.labels.kind)] ?? 0) + v.value;
  return out;
}

describe('Controller scans', () => {
  it('reconciles nothing after its own writes, and the files a user changed when they change', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aifb-controller-scan-'));
    const paths = resolvePaths({ resources: join(dir, 'resources') }, {}, dir);
    mkdirSync(paths.resourcesDir, { recursive: true });
    for (const name of ['a', 'b', 'c']) writeFileSync(join(paths.resourcesDir, `${name}.yaml`), svc(name));
    controller = new Controller({ paths, executor: new LocalExecutor(paths.stateDir), log: silentLogger, resyncMs: 3_600_000 });
    await controller.start();
    const ready = () => ['a', 'b', 'c'].every((name) => readFileSync(join(paths.resourcesDir, `${name}.yaml`), 'utf8').includes('  phase: Ready\n'));
    for (let i = 0; i < 100 && !ready(); i++) await new Promise((r) => setTimeout(r, 50));
    await controller.idle();
    expect(ready()).toBe(true);

    const settled = await reconciles(controller);
    const version = controller.version();
    await controller.rescan();
    await controller.idle();
    expect(await reconciles(controller)).toEqual(settled);

    // A spec edit: that Service changes generation; the others are left alone.
    const b = join(paths.resourcesDir, 'b.yaml');
    writeFileSync(b, readFileSync(b, 'utf8').replace('port: 1 }', 'port: 2 }'));
    await controller.rescan();
    await controller.idle();
    expect((await reconciles(controller)).Service).toBeGreaterThan(settled.Service);
    expect((await controller.get('Service', 'b'))?.metadata.generation).toBe(2);
    expect((await controller.get('Service', 'a'))?.metadata.generation).toBe(1);
    expect(controller.version()).toBeGreaterThan(version);
  });
});
