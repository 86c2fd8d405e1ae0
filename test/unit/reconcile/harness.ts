// Test harness for the reconcilers: real stores in a temp folder, the fake
// executor, and XState's SimulatedClock driving the machines' backoffs, the
// poll helper and the launch observer, so minutes of retries take milliseconds.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SimulatedClock } from 'xstate';
import type { Status } from '../../../api/schemas.js';
import { LaunchObserver } from '../../../controller/executor/observer.js';
import { BenchmarkReconciler } from '../../../controller/reconcile/benchmark-reconciler.js';
import type { Reconciler, ReconcilerDeps } from '../../../controller/reconcile/deps.js';
import { MonitoringStackReconciler } from '../../../controller/reconcile/monitoring-reconciler.js';
import { ServiceReconciler } from '../../../controller/reconcile/service-reconciler.js';
import type { Logger } from '../../../controller/runtime/logger.js';
import { resolvePaths } from '../../../controller/runtime/paths.js';
import { MetaStore } from '../../../controller/store/meta-store.js';
import { parseResourceText, type ParsedDoc } from '../../../controller/store/parse.js';
import { ResultsDb } from '../../../monitoring/results/results-db.js';
import { ControllerMetrics } from '../../../monitoring/controller-metrics.js';
import { Pusher } from '../../../monitoring/push.js';
import { FakeExecutor } from './fake-executor.js';

/** Lets promises and I/O callbacks settle: a few turns of the event loop. */
export async function settle(turns = 5): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise<void>((r) => setImmediate(r));
}

export function reconcilerWorld() {
  const dir = mkdtempSync(join(tmpdir(), 'aifb-reconcile-'));
  const paths = resolvePaths({ resources: join(dir, 'resources') }, {}, dir);
  const clock = new SimulatedClock();
  const executor = new FakeExecutor();
  const logged: string[] = [];
  const log: Logger = {
    info: (m, f) => logged.push(`INFO ${m} ${JSON.stringify(f ?? {})}`),
    warn: (m, f) => logged.push(`WARN ${m} ${JSON.stringify(f ?? {})}`),
    error: (m, f) => logged.push(`ERROR ${m} ${JSON.stringify(f ?? {})}`),
  };
  const docs = new Map<string, ParsedDoc>();
  const statuses = new Map<string, Status>();
  const queue = new Set<string>();
  const meta = new MetaStore(paths.stateDir);
  const deps: ReconcilerDeps = {
    paths,
    meta,
    executor,
    observer: new LaunchObserver(executor, { clock, intervalMs: 1000, log }),
    clock,
    results: new ResultsDb(':memory:'),
    log,
    doc: (key) => docs.get(key),
    keysOf: (kind) => [...docs.keys()].filter((k) => k.startsWith(`${kind}/`)),
    enqueue: (key) => queue.add(key),
    recordEvent: (key, type, reason, message) => {
      if (meta.get(key)) meta.addEvent(key, { type, reason, message });
      logged.push(`EVENT ${type} ${reason} ${message}`);
    },
    lastStatus: (key) => statuses.get(key),
    writeStatus: async (doc, status) => {
      statuses.set(doc.key!, JSON.parse(JSON.stringify(status)));
    },
    metrics: new ControllerMetrics({ resources: () => new Map(), queueDepth: () => queue.size }),
    pusher: new Pusher({ timers: clock, onChange: (key) => queue.add(key) }),
    pushDefaults: {},
    api: () => undefined,
    runnerCommand: ['node', 'runner.js'],
  };
  const reconcilers: Record<string, Reconciler> = {
    Service: new ServiceReconciler(deps),
    Benchmark: new BenchmarkReconciler(deps),
    MonitoringStack: new MonitoringStackReconciler(deps),
  };
  const results = new Map<string, { requeueAfterMs?: number } | void>();

  /** Reconciles every queued key until the queue is empty, as the work queue would. */
  async function pump(): Promise<void> {
    for (let round = 0; round < 50 && queue.size > 0; round++) {
      const keys = [...queue];
      queue.clear();
      for (const key of keys) results.set(key, await reconcilers[key.slice(0, key.indexOf('/'))].reconcile(key));
      await settle();
    }
  }

  return {
    dir,
    paths,
    clock,
    executor,
    logged,
    statuses,
    meta,
    deps,
    results,
    /** Adds (or replaces) the resources of a YAML text, as a scan would, and reconciles them. */
    async apply(yaml: string, file = 'r.yaml'): Promise<void> {
      for (const doc of parseResourceText(yaml, join(paths.resourcesDir, file))) {
        docs.set(doc.key!, doc);
        queue.add(doc.key!);
      }
      await pump();
    },
    /** Removes a resource, as a deleted file would, and reconciles it. */
    async remove(key: string): Promise<void> {
      docs.delete(key);
      queue.add(key);
      await pump();
    },
    /** Lets simulated time pass in steps, settling and reconciling what changed after each. */
    async advance(ms: number, stepMs = 250): Promise<void> {
      await settle();
      for (let t = 0; t < ms; t += stepMs) {
        clock.increment(Math.min(stepMs, ms - t));
        // Real I/O (a probe's TCP connect, a file) needs a moment of real time too.
        await new Promise<void>((r) => setTimeout(r, 2));
        await settle();
        await pump();
      }
    },
    status: (key: string) => statuses.get(key),
    /** Lets simulated time pass until key reaches phase (real work such as merging results takes real time too). */
    async until(key: string, phase: string, maxMs = 60_000): Promise<Status> {
      for (let t = 0; t <= maxMs; t += 250) {
        const st = statuses.get(key);
        if (st?.phase === phase) return st;
        await this.advance(250);
        await new Promise<void>((r) => setTimeout(r, 5));
      }
      throw new Error(`${key} did not reach ${phase} in ${maxMs} ms of simulated time; it is ${JSON.stringify(statuses.get(key))}`);
    },
    shutdown(): void {
      for (const r of Object.values(reconcilers)) r.shutdown();
    },
  };
}

export type ReconcilerWorld = ReturnType<typeof reconcilerWorld>;
