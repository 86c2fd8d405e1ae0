// Reconciles Benchmark resources: one machine per benchmark generation, fed the
// state of its service, with status and events derived from the machine.
import { waitFor, type SnapshotFrom } from 'xstate';
import { benchmarkMachine, benchmarkPhase, MACHINE_VERSION } from '../../machines/benchmark.js';
import { stateNameOf } from '../../machines/lifecycle.js';
import type { BenchmarkResource, ResultsSummary, Status } from '../api/schemas.js';
import { describeProblems } from '../api/validate.js';
import { ActorHost } from './actor-host.js';
import { benchmarkEffects, type BenchmarkTarget } from './benchmark-effects.js';
import { mergeConditions, validCondition, type ConditionInput } from './conditions.js';
import type { Reconciler, ReconcilerDeps } from './deps.js';
import { cleanupLaunches, invalidStatus } from './common.js';

type Snapshot = SnapshotFrom<typeof benchmarkMachine>;

const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());
const PROGRESS_EVENT_EVERY_MS = 10_000;
const PROGRESS_STATUS_EVERY_MS = 3_000;

export class BenchmarkReconciler implements Reconciler {
  private readonly host: ActorHost<typeof benchmarkMachine>;
  /** Last state name seen per key, so events mark transitions only. */
  private readonly lastState = new Map<string, string>();
  private readonly lastProgressEvent = new Map<string, number>();
  private readonly lastProgressStatus = new Map<string, number>();

  constructor(private readonly deps: ReconcilerDeps) {
    this.host = new ActorHost({
      dir: deps.paths.machinesDir,
      machineVersion: MACHINE_VERSION,
      log: deps.log,
      onSnapshot: (key, snapshot) => this.onSnapshot(key, snapshot),
    });
  }

  async reconcile(key: string): Promise<void> {
    const doc = this.deps.doc(key);
    if (!doc) return this.finalize(key);
    if (!doc.validation.ok) {
      // An invalid edit does not stop what runs: the last valid generation goes on.
      const problems = describeProblems(doc.validation.problems);
      await this.deps.writeStatus(doc, invalidStatus(this.deps.lastStatus(key), problems, this.host.get(key) ? 'KeptRunningPreviousGeneration' : undefined));
      return;
    }
    const resource = doc.validation.resource as BenchmarkResource;
    const isNew = this.deps.meta.get(key) === undefined;
    const meta = this.deps.meta.observe(key, doc.specHash!);
    if (isNew) this.event(key, 'Normal', 'Accepted', `Benchmark accepted from ${doc.file} (generation ${meta.generation})`);

    let hosted = this.host.get(key);
    if (hosted && hosted.generation !== meta.generation) {
      this.event(key, 'Normal', 'SpecChanged', `spec changed: generation ${hosted.generation} stops, generation ${meta.generation} starts`);
      await this.stopMachine(key, 'replaced by a new generation');
      hosted = undefined;
    }
    if (!hosted) {
      const target: BenchmarkTarget = { key, resource, uid: meta.uid, generation: meta.generation };
      const machine = benchmarkMachine.provide({ actors: benchmarkEffects(this.deps, target) as never });
      const input = {
        name: resource.metadata.name,
        generation: meta.generation,
        needsService: Boolean(resource.spec.serviceRef),
        retries: resource.spec.retries,
      };
      const started = this.host.start(key, machine, input, meta.generation);
      hosted = started.hosted;
      // Timers are not persisted: RESUME re-arms a pending backoff.
      if (started.restored) hosted.actor.send({ type: 'RESUME' });
      if (started.restored) this.event(key, 'Normal', 'Resumed', `resumed in state ${stateNameOf(hosted.actor.getSnapshot().value)} after a controller restart`);
      this.lastState.set(key, stateNameOf(hosted.actor.getSnapshot().value));
    }

    const snapshot = hosted.actor.getSnapshot();
    const serviceRef = resource.spec.serviceRef;
    let serviceCondition: ConditionInput | undefined;
    if (serviceRef) {
      const svc = this.deps.lastStatus(`Service/${serviceRef}`);
      const ready = svc?.phase === 'Ready' && svc.endpoint !== undefined;
      serviceCondition = {
        type: 'ServiceReady',
        status: ready ? 'True' : 'False',
        reason: ready ? 'ServiceReady' : svc ? `Service${svc.phase ?? 'Pending'}` : 'ServiceNotFound',
        message: ready ? `service ${serviceRef} at ${svc.endpoint!.host}:${svc.endpoint!.port}` : svc ? `service ${serviceRef} is ${svc.phase}` : `no Service named "${serviceRef}"; create it or fix spec.serviceRef`,
      };
      if (stateNameOf(snapshot.value) === 'waitingForService') {
        if (ready) hosted.actor.send({ type: 'SERVICE_READY' } as never);
        else if (svc?.phase === 'Failed') hosted.actor.send({ type: 'SERVICE_FAILED', reason: 'ServiceFailed', message: svc.message ?? `service ${serviceRef} failed` } as never);
      }
    }
    await this.deps.writeStatus(doc, this.statusOf(key, hosted.actor.getSnapshot(), meta.generation, serviceCondition));
  }

  private statusOf(key: string, snapshot: Snapshot, generation: number, serviceCondition?: ConditionInput): Status {
    const ctx = snapshot.context as unknown as {
      attempt: number;
      runId?: string;
      progress?: { elapsedMs: number; requests: number; errors: number; rps: number; p99Ms: number };
      lastError?: { reason: string; message: string };
      results?: ResultsSummary;
      reports?: Record<string, string>;
      startedAt?: number;
      completedAt?: number;
    };
    const phase = benchmarkPhase(snapshot);
    const prev = this.deps.lastStatus(key);
    const failed = phase === 'Failed';
    const conditions: ConditionInput[] = [validCondition(true)];
    if (serviceCondition) conditions.push(serviceCondition);
    conditions.push({
      type: 'Running',
      status: phase === 'Running' ? 'True' : 'False',
      reason: phase === 'Running' ? 'RunnerRunning' : phase,
      message: phase === 'Running' && ctx.runId ? `run ${ctx.runId}, attempt ${ctx.attempt}` : '',
    });
    conditions.push({
      type: 'Complete',
      status: phase === 'Succeeded' ? 'True' : failed ? 'False' : 'Unknown',
      reason: phase === 'Succeeded' ? 'Succeeded' : failed ? ctx.lastError?.reason ?? 'Failed' : 'InProgress',
      message: failed ? ctx.lastError?.message ?? '' : phase === 'Succeeded' && ctx.results?.sloPassed === false ? 'finished, but the SLO was not met' : '',
    });
    const status: Status = {
      phase,
      observedGeneration: generation,
      conditions: mergeConditions(prev?.conditions, conditions, new Date()),
      attempts: ctx.attempt,
      message: phase === 'Retrying' || failed ? `${ctx.lastError?.reason ?? 'Error'}: ${ctx.lastError?.message ?? ''}` : undefined,
      startedAt: iso(ctx.startedAt),
      completedAt: iso(ctx.completedAt),
      runId: ctx.runId,
      progress: phase === 'Running' ? ctx.progress : undefined,
      results: ctx.results,
      reports: ctx.reports,
    };
    return JSON.parse(JSON.stringify(status)) as Status;
  }

  private onSnapshot(key: string, snapshot: Snapshot): void {
    const state = stateNameOf(snapshot.value);
    const before = this.lastState.get(key);
    const ctx = snapshot.context as unknown as Record<string, any>;
    if (state !== before) {
      this.lastState.set(key, state);
      this.transitionEvent(key, state, ctx);
      this.deps.enqueue(key);
      return;
    }
    // Progress: status every few seconds, an event now and then; never a write per line.
    const now = Date.now();
    if (state === 'running' && ctx.progress) {
      if (now - (this.lastProgressStatus.get(key) ?? 0) >= PROGRESS_STATUS_EVERY_MS) {
        this.lastProgressStatus.set(key, now);
        this.deps.enqueue(key);
      }
      if (now - (this.lastProgressEvent.get(key) ?? 0) >= PROGRESS_EVENT_EVERY_MS) {
        this.lastProgressEvent.set(key, now);
        const p = ctx.progress;
        this.event(key, 'Normal', 'Progress', `${p.requests} requests, ${p.errors} errors, ${p.rps} req/s, p99 ${p.p99Ms}ms after ${Math.round(p.elapsedMs / 1000)}s`);
      }
    }
  }

  private transitionEvent(key: string, state: string, ctx: Record<string, any>): void {
    const err = ctx.lastError ? `${ctx.lastError.reason}: ${ctx.lastError.message}` : '';
    switch (state) {
      case 'waitingForService':
        return this.event(key, 'Normal', 'WaitingForService', 'waiting for the service to be ready');
      case 'starting':
        return this.event(key, 'Normal', 'Starting', `launching runner, attempt ${ctx.attempt}`);
      case 'running':
        return this.event(key, 'Normal', 'Started', `runner started: run ${ctx.runId}, attempt ${ctx.attempt}`);
      case 'collecting':
        return this.event(key, 'Normal', 'Collecting', `runner finished; collecting results of ${ctx.runId}`);
      case 'retrying':
        return this.event(key, 'Warning', 'Retrying', `attempt ${ctx.attempt} failed (${err}); retrying`);
      case 'succeeded': {
        const r = ctx.results as ResultsSummary | undefined;
        const msg = r ? `${r.requests} requests, ${r.errors} errors, ${r.throughput.toFixed(1)} req/s, p99 ${r.p99Ms.toFixed(2)}ms` : 'finished';
        return this.event(key, 'Normal', 'Succeeded', msg);
      }
      case 'failed':
        return this.event(key, 'Warning', ctx.lastError?.reason ?? 'Failed', ctx.lastError?.message ?? 'failed');
      case 'terminating':
        return this.event(key, 'Normal', 'Terminating', 'stopping what was launched');
      default:
        return undefined;
    }
  }

  private event(key: string, type: 'Normal' | 'Warning', reason: string, message: string): void {
    if (this.deps.meta.get(key)) this.deps.meta.addEvent(key, { type, reason, message });
    this.deps.log.info(`Recorded event ${reason}`, { key, message });
  }

  /** Sends DELETE so the machine stops what it launched, then drops the actor. */
  private async stopMachine(key: string, why: string): Promise<void> {
    const hosted = this.host.get(key);
    if (!hosted) return;
    const snap = hosted.actor.getSnapshot();
    if (snap.status === 'active') {
      hosted.actor.send({ type: 'DELETE' } as never);
      try {
        await waitFor(hosted.actor, (s) => s.status === 'done' || stateNameOf(s.value) === 'stopped', { timeout: 60_000 });
      } catch (e) {
        this.deps.log.warn('Machine did not stop in time', { key, why, error: (e as Error).message });
      }
    }
    this.host.stop(key, { forget: true });
    this.lastState.delete(key);
  }

  /** The file is gone: stop the machine, then anything still launched for this name. */
  private async finalize(key: string): Promise<void> {
    await this.stopMachine(key, 'resource deleted');
    const name = key.slice(key.indexOf('/') + 1);
    await cleanupLaunches(this.deps, 'Benchmark', name);
    this.host.stop(key, { forget: true });
    if (this.deps.meta.get(key)) {
      this.deps.meta.remove(key);
      this.deps.log.info('Finalized deleted resource', { kind: 'Benchmark', name });
    }
  }

  shutdown(): void {
    this.host.stopAll();
  }
}
