// Wiring of the controller: watches the resources folder, keeps the latest scan,
// feeds keys to the work queue, routes each to its kind's reconciler, serves views.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchmarkResource, Kind, Status } from './api/schemas.js';
import { Status as StatusSchema } from './api/schemas.js';
import { describeProblems } from '../api/problems.js';
import { LaunchObserver } from './executor/observer.js';
import type { Executor } from './executor/types.js';
import { systemClock, type Clock } from './runtime/clock.js';
import { SettleCollector } from './runtime/settle-collector.js';
import { DeferredWrites } from './runtime/deferred-writes.js';
import { StoreError } from './store/errors.js';
import { WorkQueue } from './queue/work-queue.js';
import { BenchmarkReconciler } from './reconcile/benchmark-reconciler.js';
import { invalidStatus } from './reconcile/common.js';
import { isOwned, ownedServiceDoc } from './reconcile/owned-service.js';
import type { Reconciler, ReconcilerDeps } from './reconcile/deps.js';
import { MonitoringStackReconciler } from './reconcile/monitoring-reconciler.js';
import { ServiceReconciler } from './reconcile/service-reconciler.js';
import type { Logger } from './runtime/logger.js';
import type { Paths } from './runtime/paths.js';
import type { ResourceSource, ResourceView } from './server/view.js';
import { FileStore } from './store/file-store.js';
import { watchFolder, type FolderWatcher } from './store/folder-watcher.js';
import { MetaStore } from './store/meta-store.js';
import { isResourceFileName, type FileError, type ParsedDoc } from './store/parse.js';
import { buildView } from './store/views.js';
import { ResultsDb, type RunRow } from '../monitoring/results/results-db.js';
import { ControllerMetrics } from '../monitoring/controller-metrics.js';
import { Pusher } from '../monitoring/push.js';
import type { PushDefaults } from './reconcile/push-target.js';

export interface ControllerOptions {
  paths: Paths;
  executor: Executor;
  log: Logger;
  /** Full rescan of the folder even without file events. */
  resyncMs?: number;
  workers?: number;
  /** How often launches are observed: one executor listing per interval for all resources. */
  observeMs?: number;
  /** Time for the queue, the observer and the machines; a SimulatedClock in tests. */
  clock?: Clock;
  /** Where benchmarks that name no Pushgateway push (controller run --pushgateway, --push-interval). */
  push?: PushDefaults;
  /** A young-generation collection, run when the controller is quiet after a burst of reconciles (see SettleCollector). */
  collect?: () => void;
}

const RUNNER_MAIN = fileURLToPath(new URL('../clients/runner/main.js', import.meta.url));

/**
 * Every resource is reconciled at least this often, changed or not: the
 * level-triggered safety net (controller-runtime's SyncPeriod). A resync in
 * between reads every file but reconciles only what changed, so a thousand
 * idle resources cost a folder read per resync, not a thousand reconciles.
 */
export const FULL_RECONCILE_MS = 10 * 60_000;

/** Status writes wait while this many keys or more wait for a worker (see DeferredWrites): a burst, not a few files. */
const DEFER_WRITES_FROM_DEPTH = 16;

export class Controller implements ResourceSource {
  private docs = new Map<string, ParsedDoc>();
  /** Gone from the folder, still being cleaned up: shown as Terminating until the executor confirms. */
  private readonly terminating = new Map<string, ParsedDoc>();
  private problems: FileError[] = [];
  /** Why the last status write of a key was skipped, so it is logged once per reason. */
  private readonly skippedWrites = new Map<string, string>();
  private readonly statuses = new Map<string, Status>();
  private readonly store: FileStore;
  private readonly meta: MetaStore;
  private readonly results: ResultsDb;
  private readonly queue: WorkQueue;
  private readonly reconcilers: Record<Kind, Reconciler>;
  private readonly pusher: Pusher;
  private readonly settle?: SettleCollector;
  private readonly deferredWrites: DeferredWrites;
  /** What /metrics serves. */
  readonly metrics: ControllerMetrics;
  /** Where the status API answers and its token file, once it listens: a MonitoringStack's Prometheus scrapes it. */
  api?: { url: string; tokenFile: string };
  private watcher?: FolderWatcher;
  private resyncTimer?: NodeJS.Timeout;
  private scanTimer?: NodeJS.Timeout;
  /** When the pending scan is due (performance.now()), and whether it reconciles every resource. */
  private scanDue = Infinity;
  private fullScan = true;
  private lastFullScan = 0;
  private scanning: Promise<void> = Promise.resolve();
  /** Bumped on every change a view can show (see version()). */
  private changes = 0;
  readonly startedAt = new Date();

  constructor(private readonly opts: ControllerOptions) {
    const { paths } = opts;
    mkdirSync(paths.resourcesDir, { recursive: true });
    mkdirSync(paths.stateDir, { recursive: true });
    this.store = new FileStore({ resourcesDir: paths.resourcesDir, onForeignText: () => this.requestScan(100) });
    this.meta = new MetaStore(paths.stateDir, { log: (l) => opts.log.warn(l) });
    this.results = new ResultsDb(paths.resultsDb);
    const clock = opts.clock ?? systemClock;
    this.metrics = new ControllerMetrics({ resources: () => this.countByPhase(), queueDepth: () => this.queue.depth });
    this.pusher = new Pusher({ timers: clock, onChange: (key) => this.queue.add(key) });
    if (opts.collect) this.settle = new SettleCollector({ collect: opts.collect, clock });
    const deps: ReconcilerDeps = {
      paths,
      meta: this.meta,
      executor: opts.executor,
      observer: new LaunchObserver(opts.executor, {
        clock,
        intervalMs: opts.observeMs ?? 1000,
        log: opts.log,
        onSweep: (seconds, ok) => {
          this.metrics.pollDuration.observe({ executor: opts.executor.name }, seconds);
          if (!ok) this.metrics.pollErrors.inc({ executor: opts.executor.name });
        },
      }),
      clock,
      results: this.results,
      log: opts.log,
      doc: (key) => this.docs.get(key),
      keysOf: (kind) => [...this.docs.keys()].filter((k) => k.startsWith(`${kind}/`)),
      enqueue: (key) => this.queue.add(key),
      recordEvent: (key, type, reason, message) => {
        if (this.meta.get(key)) this.meta.addEvent(key, { type, reason, message });
        this.changes++;
        this.opts.log.info(`Recorded event ${reason}`, { key, message });
      },
      lastStatus: (key) => this.statuses.get(key),
      writeStatus: (doc, status) => this.writeStatus(doc, status),
      metrics: this.metrics,
      pusher: this.pusher,
      pushDefaults: opts.push ?? {},
      api: () => this.api,
      runnerCommand: [process.execPath, RUNNER_MAIN],
    };
    this.reconcilers = {
      Benchmark: new BenchmarkReconciler(deps),
      Service: new ServiceReconciler(deps),
      MonitoringStack: new MonitoringStackReconciler(deps),
    };
    this.deferredWrites = new DeferredWrites({
      busy: () => this.queue.depth >= DEFER_WRITES_FROM_DEPTH,
      write: (key) => this.writeLatestStatus(key),
    });
    this.queue = new WorkQueue((key) => this.reconcile(key), {
      clock,
      workers: opts.workers ?? 4,
      onError: (key, error, retryIn) =>
        opts.log.error('Reconcile failed', { key, error: (error as Error)?.message ?? String(error), retryInMs: retryIn }),
    });
  }

  async start(): Promise<void> {
    // Watch first, scan second: a file copied in between is seen by one or the other.
    this.watcher = watchFolder(
      this.opts.paths.resourcesDir,
      (name) => void this.onFileEvent(name),
      (e) => this.opts.log.warn('Stopped watching the resources folder; changes are seen at the next resync', { error: e.message }),
    );
    await this.rescan();
    this.queue.start();
    const resyncMs = this.opts.resyncMs ?? 30_000;
    this.resyncTimer = setInterval(() => this.requestScan(0, Date.now() - this.lastFullScan >= FULL_RECONCILE_MS), resyncMs);
    this.opts.log.info('Started controller', {
      resources: this.opts.paths.resourcesDir,
      state: this.opts.paths.stateDir,
      executor: this.opts.executor.name,
    });
  }

  /** Stops watching and reconciling; what was launched keeps running, to be adopted later. */
  async stop(): Promise<void> {
    clearInterval(this.resyncTimer);
    clearTimeout(this.scanTimer);
    this.watcher?.close();
    await this.queue.stop();
    await this.deferredWrites.flush();
    await this.deferredWrites.flush(true);
    for (const r of Object.values(this.reconcilers)) r.shutdown();
    this.pusher.stopAll();
    this.settle?.stop();
    this.meta.flush();
    this.results.close();
  }

  private async onFileEvent(name: string | undefined): Promise<void> {
    if (name !== undefined) {
      if (!isResourceFileName(name)) return;
      // Our own status writes change the file too; they must not start another round.
      if (await this.store.isOwnWrite(join(this.opts.paths.resourcesDir, name))) return;
    }
    this.requestScan(100);
  }

  /**
   * Coalesces bursts of file events into one scan. The earliest due time wins:
   * events that keep coming (our own writes among them) never postpone a scan
   * already asked for.
   */
  private requestScan(delayMs: number, full = false): void {
    this.fullScan ||= full;
    const due = performance.now() + delayMs;
    if (due >= this.scanDue) return;
    clearTimeout(this.scanTimer);
    this.scanDue = due;
    this.scanTimer = setTimeout(() => {
      this.scanDue = Infinity;
      void this.rescan().catch((e) => this.opts.log.error('Scan failed', { error: (e as Error).message }));
    }, delayMs);
  }

  /** Scans now, after any scan in progress: two scans never interleave. */
  rescan(): Promise<void> {
    const next = this.scanning.catch(() => undefined).then(() => this.scan());
    this.scanning = next;
    return next;
  }

  /**
   * Reads the folder and reconciles what changed: documents in files whose
   * text changed (not by our own status writes), added and removed resources,
   * and every Benchmark when a Service or MonitoringStack changed (benchmarks
   * read them). A full scan (the first, then every FULL_RECONCILE_MS)
   * reconciles every key seen now or before.
   */
  private async scan(): Promise<void> {
    const full = this.fullScan;
    this.fullScan = false;
    if (full) this.lastFullScan = Date.now();
    const { docs, fileErrors, changed } = await this.store.scan();
    const next = new Map<string, ParsedDoc>();
    const problems: FileError[] = [...fileErrors];
    /** Invalid documents no reconciler owns (a duplicate name, an unknown kind): told in their own file. */
    const orphans: ParsedDoc[] = [];
    // A file being edited may not parse for a moment: what it defined before stays,
    // so a syntax error never stops a running benchmark. Its problem is reported.
    const brokenFiles = new Set(docs.filter((d) => d.yamlErrors.length > 0).map((d) => d.file));
    for (const [key, doc] of this.docs) if (brokenFiles.has(doc.file)) next.set(key, doc);
    for (const doc of docs) {
      if (brokenFiles.has(doc.file)) {
        problems.push({ file: doc.file, message: doc.validation.ok ? 'invalid YAML' : describeProblems(doc.validation.problems) });
        continue;
      }
      if (doc.key && (doc.kind === 'Benchmark' || doc.kind === 'Service' || doc.kind === 'MonitoringStack') && !next.has(doc.key)) {
        next.set(doc.key, doc);
        if (!this.statuses.has(doc.key) && doc.status !== undefined) {
          const parsed = StatusSchema.safeParse(doc.status);
          if (parsed.success) this.statuses.set(doc.key, parsed.data);
        }
      } else if (!doc.validation.ok) {
        problems.push({ file: doc.file, message: `document ${doc.index + 1}: ${describeProblems(doc.validation.problems)}` });
        orphans.push(doc);
      }
    }
    for (const p of problems) {
      if (!this.problems.some((q) => q.file === p.file && q.message === p.message)) this.opts.log.warn('Ignored unreadable resource file', { file: p.file, problem: p.message });
    }
    this.addOwnedServices(next);
    const keys = full ? new Set([...this.docs.keys(), ...next.keys(), ...this.meta.keys()]) : this.changedKeys(this.docs, next, changed);
    for (const [key, doc] of this.docs) if (!next.has(key)) this.terminating.set(key, doc);
    for (const key of next.keys()) this.terminating.delete(key);
    this.docs = next;
    this.problems = problems;
    this.changes++;
    for (const key of keys) this.queue.addChanged(key);
    for (const doc of orphans) await this.markOrphan(doc);
  }

  private changedKeys(prev: Map<string, ParsedDoc>, next: Map<string, ParsedDoc>, changedFiles: Set<string>): Set<string> {
    const keys = new Set<string>();
    for (const [key, doc] of next) {
      const was = prev.get(key);
      if (!was || was.file !== doc.file || was.index !== doc.index || changedFiles.has(doc.file)) keys.add(key);
    }
    for (const key of prev.keys()) if (!next.has(key)) keys.add(key);
    // Gone while no controller ran, or not cleaned up yet: still to finalize.
    for (const key of this.meta.keys()) if (!next.has(key) && !prev.has(key)) keys.add(key);
    if ([...keys].some((k) => k.startsWith('Service/') || k.startsWith('MonitoringStack/'))) {
      for (const key of next.keys()) if (key.startsWith('Benchmark/')) keys.add(key);
    }
    return keys;
  }

  /** Inline services become Service documents of their own while their benchmark has not ended. */
  private addOwnedServices(docs: Map<string, ParsedDoc>): void {
    for (const doc of [...docs.values()]) {
      if (doc.kind !== 'Benchmark' || !doc.validation.ok || isOwned(doc)) continue;
      const owned = ownedServiceDoc(doc, doc.validation.resource as BenchmarkResource);
      if (!owned || this.benchmarkEnded(doc.key!)) continue;
      if (docs.has(owned.key!)) {
        this.opts.log.warn('Skipped inline service: a Service of that name exists', { benchmark: doc.name, service: owned.name });
        continue;
      }
      docs.set(owned.key!, owned);
    }
  }

  private benchmarkEnded(key: string): boolean {
    const phase = this.statuses.get(key)?.phase;
    return phase === 'Succeeded' || phase === 'Failed';
  }

  private async markOrphan(doc: ParsedDoc): Promise<void> {
    if (doc.validation.ok || typeof doc.kind !== 'string' || typeof doc.name !== 'string') return;
    const prev = StatusSchema.safeParse(doc.status ?? {});
    const status = invalidStatus(prev.success ? prev.data : undefined, describeProblems(doc.validation.problems), false);
    try {
      await this.store.writeStatus({ file: doc.file, index: doc.index, kind: doc.kind, name: doc.name }, status as Record<string, unknown>);
    } catch (e) {
      if (!(e instanceof StoreError)) throw e;
    }
  }

  private async reconcile(key: string): Promise<{ requeueAfterMs?: number } | void> {
    const kind = key.slice(0, key.indexOf('/')) as Kind;
    const reconciler = this.reconcilers[kind];
    if (!reconciler) return;
    const began = performance.now();
    let result: { requeueAfterMs?: number } | void;
    try {
      result = await reconciler.reconcile(key);
      this.metrics.reconciles.inc({ kind, result: 'ok' });
    } catch (e) {
      this.metrics.reconciles.inc({ kind, result: 'error' });
      throw e;
    } finally {
      this.metrics.reconcileDuration.observe({ kind }, (performance.now() - began) / 1000);
      // Whatever the reconcile changed (a generation, a uid, a finalized resource) shows in the views.
      this.changes++;
      this.settle?.noteWork();
      if (this.deferredWrites.size > 0) void this.deferredWrites.flush();
    }
    if (!this.docs.has(key)) {
      this.terminating.delete(key);
      this.statuses.delete(key);
      this.changes++;
    }
    return result;
  }

  private async writeStatus(doc: ParsedDoc, status: Status): Promise<void> {
    const key = doc.key!;
    this.statuses.set(key, status);
    this.changes++;
    // An owned service's status has no document of its own to go to: the API shows it.
    if (isOwned(doc)) return;
    if (doc.kind === 'Benchmark') this.syncOwnedService(doc);
    if (this.deferredWrites.defer(key)) return;
    await this.persistStatus(doc, status);
  }

  /** A deferred write: the key's status and document as they are now, if it still has both. */
  private async writeLatestStatus(key: string): Promise<void> {
    const doc = this.docs.get(key) ?? this.terminating.get(key);
    const status = this.statuses.get(key);
    if (!doc || !status || isOwned(doc)) return;
    try {
      await this.persistStatus(doc, status);
    } catch (e) {
      this.opts.log.error('Status write failed; the next reconcile writes it again', { key, error: (e as Error)?.message ?? String(e) });
    }
  }

  private async persistStatus(doc: ParsedDoc, status: Status): Promise<void> {
    const key = doc.key!;
    try {
      const outcome = await this.store.writeStatus({ file: doc.file, index: doc.index, kind: doc.kind!, name: doc.name! }, status as Record<string, unknown>);
      this.metrics.statusWrites.inc({ kind: doc.kind!, result: outcome });
      this.skippedWrites.delete(key);
      if (outcome === 'gone') this.requestScan(0);
    } catch (e) {
      // The user's file cannot take a status now (a syntax error mid-edit): the API still has it.
      if (!(e instanceof StoreError)) throw e;
      this.metrics.statusWrites.inc({ kind: doc.kind!, result: 'refused' });
      // Said once per reason: every rescan and progress update would repeat it otherwise.
      if (this.skippedWrites.get(key) === e.message) return;
      this.skippedWrites.set(key, e.message);
      this.opts.log.warn('Skipped status write', { key, file: doc.file, reason: e.message });
    }
  }

  /** A running benchmark has its inline service; an ended one lets it go (its reconciler stops it). */
  private syncOwnedService(bench: ParsedDoc): void {
    this.changes++;
    if (!bench.validation.ok) return;
    const owned = ownedServiceDoc(bench, bench.validation.resource as BenchmarkResource);
    if (!owned) return;
    const present = this.docs.get(owned.key!);
    if (this.benchmarkEnded(bench.key!)) {
      if (present && isOwned(present) && present.owner === bench.key) {
        this.docs.delete(owned.key!);
        this.terminating.set(owned.key!, present);
        this.queue.add(owned.key!);
      }
    } else if (!present) {
      this.docs.set(owned.key!, owned);
      this.queue.add(owned.key!);
    }
  }

  /** Resolves when no reconcile is queued or running and no status write waits (for tests and quickstart). */
  async idle(): Promise<void> {
    await this.queue.idle();
    while (this.deferredWrites.size > 0) {
      await this.deferredWrites.flush();
      await this.queue.idle();
    }
  }

  /** kind -> phase -> count, for /metrics (Pending until a status is written). */
  private countByPhase(): Map<string, Map<string, number>> {
    const out = new Map<string, Map<string, number>>();
    const add = (kind: string, phase: string) => {
      if (!out.has(kind)) out.set(kind, new Map());
      const phases = out.get(kind)!;
      phases.set(phase, (phases.get(phase) ?? 0) + 1);
    };
    for (const [key, doc] of this.docs) add(doc.kind ?? key.slice(0, key.indexOf('/')), this.statuses.get(key)?.phase ?? 'Pending');
    for (const doc of this.terminating.values()) add(doc.kind ?? 'Unknown', 'Terminating');
    return out;
  }

  fileProblems(): FileError[] {
    return this.problems;
  }

  /** Finished runs newest first, of one benchmark when named: the status API's run history. */
  recentRuns(benchmark?: string): RunRow[] {
    return this.results.listRuns(benchmark);
  }

  /** A finished run's benchmark and the report files written for it (format -> path). */
  runReports(runId: string): { benchmark: string; files: Record<string, string> } | undefined {
    const run = this.results.getRun(runId);
    return run && { benchmark: run.benchmark, files: run.reports };
  }

  /** Changes whenever a view may have: the status API serves a list it built at the same version as is. */
  version(): number {
    return this.changes;
  }

  async list(kind: Kind): Promise<ResourceView[]> {
    return [...this.docs.values(), ...this.terminating.values()].filter((d) => d.kind === kind).map((d) => this.view(d));
  }

  async get(kind: Kind, name: string): Promise<ResourceView | undefined> {
    const key = `${kind}/${name}`;
    const doc = this.docs.get(key) ?? this.terminating.get(key);
    return doc ? this.view(doc) : undefined;
  }

  private view(doc: ParsedDoc): ResourceView {
    const status = this.statuses.get(doc.key!);
    const gone = !this.docs.has(doc.key!);
    return buildView(doc, this.meta.get(doc.key!), gone ? { ...status, phase: 'Terminating', message: 'its file is gone; stopping what was launched' } : status);
  }
}
