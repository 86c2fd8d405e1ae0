// What every reconciler is given: the stores, the executor, the results
// database, where things live, and how to ask for another reconcile.
import type { LaunchObserver } from '../executor/observer.js';
import type { Executor } from '../executor/types.js';
import type { Clock } from '../runtime/clock.js';
import type { MetaStore } from '../store/meta-store.js';
import type { ParsedDoc } from '../store/parse.js';
import type { ResultsDb } from '../../monitoring/results/results-db.js';
import type { Logger } from '../runtime/logger.js';
import type { Paths } from '../runtime/paths.js';
import type { Status } from '../api/schemas.js';
import type { ControllerMetrics } from '../../monitoring/controller-metrics.js';
import type { Pusher } from '../../monitoring/push.js';
import type { PushDefaults } from './push-target.js';

export interface ReconcilerDeps {
  paths: Paths;
  meta: MetaStore;
  executor: Executor;
  /** The one batched sweep of launches that every watcher subscribes to. */
  observer: LaunchObserver;
  /** Time for effects and machines: the system clock, or a SimulatedClock in tests. */
  clock: Clock;
  results: ResultsDb;
  log: Logger;
  /** The current document for key, from the last scan. */
  doc(key: string): ParsedDoc | undefined;
  /** Keys of all documents of a kind from the last scan. */
  keysOf(kind: string): string[];
  enqueue(key: string): void;
  /** Records an event on the resource (shown by describe and the API) and logs it. */
  recordEvent(key: string, type: 'Normal' | 'Warning', reason: string, message: string): void;
  /** The status last written for key (or read from its file). */
  lastStatus(key: string): Status | undefined;
  /** Writes status to the resource file and remembers it. */
  writeStatus(doc: ParsedDoc, status: Status): Promise<void>;
  /** /metrics: the controller's counters and the live series of running benchmarks. */
  metrics: ControllerMetrics;
  /** Pushes benchmark metrics to Pushgateways and remembers how each benchmark's last push went. */
  pusher: Pusher;
  /** The controller's own Pushgateway (controller run --pushgateway), for benchmarks that name none. */
  pushDefaults: PushDefaults;
  /** The status API's URL and token file, once it listens (a MonitoringStack's Prometheus scrapes its /metrics). */
  api(): { url: string; tokenFile: string } | undefined;
  /** argv that starts a runner process: `[node, dist/clients/runner/main.js]`. */
  runnerCommand: string[];
}

export interface Reconciler {
  /** Throws on a retryable error (the queue backs off); asks to look again later with requeueAfterMs. */
  reconcile(key: string): Promise<{ requeueAfterMs?: number } | void>;
  /** Stops live actors without touching what they launched (controller shutdown). */
  shutdown(): void;
}
