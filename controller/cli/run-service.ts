// The service of a foreground run (`aifbctl run`): an `endpoint:` is used as
// is; anything to start (a command, a native service, a container) is started
// by a controller of its own, in memory, over a private folder, so readiness,
// credentials and cleanup work exactly as under the long-running controller.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { Connection } from '../../api/connection.js';
import type { ServiceResource } from '../api/schemas.js';
import { Controller } from '../controller.js';
import { LocalExecutor } from '../executor/local-executor.js';
import { serviceConnection } from '../reconcile/service-connection.js';
import type { Logger } from '../runtime/logger.js';
import { resolvePaths } from '../runtime/paths.js';

export interface RunningService {
  connection: Connection;
  /** Stops what was started (nothing for an endpoint); safe to call twice. */
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `raw`: the Service document as its user wrote it (defaults not filled in), written for the private controller. */
export async function startService(service: ServiceResource, raw: unknown, workDir: string, log: Logger, signal: AbortSignal): Promise<RunningService> {
  const { spec, metadata } = service;
  if (spec.endpoint) {
    return { connection: serviceConnection(spec, metadata.name, workDir, { host: spec.endpoint.host, port: spec.endpoint.port }), stop: async () => {} };
  }
  const paths = resolvePaths({ resources: join(workDir, 'resources'), state: join(workDir, 'state'), reports: join(workDir, 'reports') });
  mkdirSync(paths.resourcesDir, { recursive: true });
  const file = join(paths.resourcesDir, 'service.yaml');
  const { spec: rawSpec } = raw as { spec: unknown };
  writeFileSync(file, stringify({ apiVersion: service.apiVersion, kind: 'Service', metadata: { name: metadata.name }, spec: rawSpec }));
  const controller = new Controller({ paths, executor: new LocalExecutor(paths.stateDir), log, resyncMs: 60_000, observeMs: 500 });
  await controller.start();
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    rmSync(file, { force: true });
    await controller.rescan();
    // The deleted Service is finalized: its process is stopped before the controller goes.
    for (let i = 0; i < 120 && (await controller.get('Service', metadata.name)); i++) await sleep(250);
    await controller.idle();
    await controller.stop();
  };
  try {
    for (;;) {
      if (signal.aborted) throw new Error('interrupted while the service was starting');
      const view = await controller.get('Service', metadata.name);
      const status = view?.status;
      if (status?.phase === 'Ready' && status.endpoint) {
        const { scheme, host, port, database, region, credentials } = status.endpoint;
        return { connection: Connection.parse({ scheme: scheme ?? 'http', host, port, database, region, credentials }), stop };
      }
      if (status?.phase === 'Failed' || status?.phase === 'Invalid') throw new Error(`service ${metadata.name} ${status.phase}: ${status.message ?? 'see its log'}; its files are in ${paths.stateDir}`);
      await sleep(250);
    }
  } catch (e) {
    await stop();
    throw e;
  }
}
