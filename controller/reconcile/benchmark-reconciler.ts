// Reconciles Benchmark resources: the machine is fed the state of its service,
// and status, conditions and events are derived from the machine's snapshot.
import type { SnapshotFrom } from 'xstate';
import { benchmarkMachine, benchmarkPhase, benchmarkStateName, type BenchmarkContext } from '../../machines/benchmark.js';
import { stateNameOf } from '../../machines/lifecycle.js';
import { runNeed, serviceTimeVerdict } from '../../machines/service-time.js';
import type { BenchmarkResource, ServiceSpec, Status } from '../api/schemas.js';
import type { Hosted } from './actor-host.js';
import { benchmarkEffects } from './benchmark-effects.js';
import { mergeConditions, validCondition, type ConditionInput } from './conditions.js';
import { sharedMachine } from './resource-effects.js';
import { MachineReconciler, type Target } from './machine-reconciler.js';
import { serviceNameOf } from './owned-service.js';
import { serviceMismatch } from '../../clients/registry.js';

type M = typeof benchmarkMachine;
/** One machine for every resource of the kind; each resource's effects are bound to its actor. */
const MACHINE = sharedMachine(benchmarkMachine);
const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());
const PROGRESS_EVENT_EVERY_MS = 10_000;
const PROGRESS_STATUS_EVERY_MS = 3_000;

export class BenchmarkReconciler extends MachineReconciler<M, BenchmarkResource> {
  protected readonly kind = 'Benchmark' as const;
  private readonly lastProgressEvent = new Map<string, number>();
  private readonly lastProgressStatus = new Map<string, number>();


  protected machineFor(t: Target<BenchmarkResource>) {
    return {
      machine: MACHINE,
      effects: benchmarkEffects(this.deps, t),
      input: { name: t.resource.metadata.name, generation: t.generation, needsService: serviceNameOf(t.resource) !== undefined, retries: t.resource.spec.retries },
    };
  }

  /** A serviceRef to a Service whose type the workload cannot talk to makes the Benchmark Invalid. */
  protected override crossCheck(b: BenchmarkResource): string | undefined {
    if (!b.spec.serviceRef) return undefined;
    const doc = this.deps.doc(`Service/${b.spec.serviceRef}`);
    if (!doc?.validation.ok || doc.validation.resource.kind !== 'Service') return undefined;
    const mismatch = serviceMismatch(b.spec.workload, doc.validation.resource.spec.type);
    return mismatch ? `spec.serviceRef: ${mismatch}; point serviceRef at a Service of one of those types` : undefined;
  }

  /** Tells a waiting machine about its service; returns the ServiceReady condition. */
  protected observe(hosted: Hosted<M>, t: Target<BenchmarkResource>): ConditionInput | undefined {
    const ref = serviceNameOf(t.resource);
    if (!ref) return undefined;
    // An ended run keeps the service condition it ran with: its owned service is stopped on purpose.
    const state = stateNameOf(hosted.actor.getSnapshot().value);
    const before = this.deps.lastStatus(t.key)?.conditions?.find((c) => c.type === 'ServiceReady');
    if ((state === 'succeeded' || state === 'failed') && before) return { type: before.type, status: before.status, reason: before.reason, message: before.message };
    const svc = this.deps.lastStatus(`Service/${ref}`);
    const ready = svc?.phase === 'Ready' && svc.endpoint !== undefined;
    if (state === 'waitingForService' || state === 'renewingService') {
      const ctx = hosted.actor.getSnapshot().context as BenchmarkContext;
      const time = serviceTimeVerdict({
        service: ref,
        need: runNeed(t.resource.spec.load),
        limit: this.serviceTimeLimit(t, ref),
        endsAt: ready && svc.endsAt ? Date.parse(svc.endsAt) : undefined,
        attempt: svc?.attempts,
        now: this.deps.clock.now(),
        renewalOf: ctx.renewal?.attempt,
      });
      if (time.verdict === 'tooShort') hosted.actor.send({ type: 'SERVICE_TIME_TOO_SHORT', message: time.message });
      else if (svc?.phase === 'Failed') hosted.actor.send({ type: 'SERVICE_FAILED', reason: 'ServiceFailed', message: svc.message ?? `service ${ref} failed` });
      else if (ready && time.verdict === 'renew') hosted.actor.send({ type: 'SERVICE_TIME_SHORT', attempt: time.attempt, message: time.message });
      else if (ready) hosted.actor.send({ type: 'SERVICE_READY', attempt: svc.attempts });
      const renewal = (hosted.actor.getSnapshot().context as BenchmarkContext).renewal;
      if (stateNameOf(hosted.actor.getSnapshot().value) === 'renewingService' && renewal) {
        return { type: 'ServiceReady', status: 'False', reason: 'ServiceRenewing', message: `${renewal.message}; service ${ref} is started again (a new job) before the run` };
      }
    } else if (state === 'starting' || state === 'running') {
      // The server the run was started against is gone, or was replaced by another attempt's.
      const startedOn = (hosted.actor.getSnapshot().context as BenchmarkContext).serviceAttempt;
      if (!ready) hosted.actor.send({ type: 'SERVICE_LOST', message: `service ${ref} left Ready (${svc?.phase ?? 'gone'}${svc?.message ? `: ${svc.message}` : ''})` });
      else if (startedOn !== undefined && svc.attempts !== undefined && svc.attempts !== startedOn) {
        hosted.actor.send({ type: 'SERVICE_LOST', message: `service ${ref} was started again (attempt ${svc.attempts}) during the run` });
      }
    }
    if (ready) return { type: 'ServiceReady', status: 'True', reason: 'ServiceReady', message: `service ${ref} at ${svc.endpoint!.host}:${svc.endpoint!.port}` };
    if (!svc) return { type: 'ServiceReady', status: 'False', reason: 'ServiceNotFound', message: `no Service named "${ref}"; create it or fix spec.serviceRef` };
    return { type: 'ServiceReady', status: 'False', reason: `Service${svc.phase ?? 'Pending'}`, message: `service ${ref} is ${svc.phase ?? 'Pending'}` };
  }

  /**
   * The Service's whole time limit, where one applies: a SLURM job that aifb
   * launches. The local executor ignores spec.slurm, and a spec.endpoint runs elsewhere.
   */
  private serviceTimeLimit(t: Target<BenchmarkResource>, ref: string): string | undefined {
    if (this.deps.executor.name !== 'slurm') return undefined;
    const doc = this.deps.doc(`Service/${ref}`);
    const spec: ServiceSpec | undefined = doc?.validation.ok && doc.validation.resource.kind === 'Service' ? doc.validation.resource.spec : t.resource.spec.service;
    return spec && !spec.endpoint ? spec.slurm.time : undefined;
  }

  /** A benchmark that asks for a renewal, or stops using its service, has the Service look again. */
  override async reconcile(key: string): Promise<{ requeueAfterMs?: number } | void> {
    const before = this.deps.lastStatus(key)?.phase;
    const result = await super.reconcile(key);
    const after = this.deps.lastStatus(key);
    const doc = this.deps.doc(key);
    const ref = doc?.validation.ok && doc.validation.resource.kind === 'Benchmark' ? serviceNameOf(doc.validation.resource as BenchmarkResource) : undefined;
    if (ref && (after?.renewal || after?.phase !== before)) this.deps.enqueue(`Service/${ref}`);
    return result;
  }

  protected statusOf(snapshot: SnapshotFrom<M>, t: Target<BenchmarkResource>, prev: Status | undefined, serviceCondition: unknown): Status {
    const ctx = snapshot.context as BenchmarkContext;
    const phase = benchmarkPhase(snapshot);
    const failed = phase === 'Failed';
    const conditions: ConditionInput[] = [validCondition(true)];
    if (serviceCondition) conditions.push(serviceCondition as ConditionInput);
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
    const generator = ctx.results?.generator;
    if (generator) {
      // A warning, not a failure: the run is kept, and whoever reads its numbers is told the client limited them.
      conditions.push(
        generator.keptUp
          ? { type: 'GeneratorKeptUp', status: 'True', reason: 'KeptUp', message: `sent ${generator.achievedRate} of ${generator.targetRate} req/s, send lag p99 ${generator.sendLagP99Ms} ms` }
          : { type: 'GeneratorKeptUp', status: 'False', reason: 'GeneratorLimited', message: generator.why ?? '' },
      );
    }
    const pushed = this.deps.pusher.outcome(t.key);
    if (pushed) {
      // A warning, never a failure: the results are on disk; the pusher keeps trying.
      conditions.push(
        pushed.ok
          ? { type: 'MetricsPushed', status: 'True', reason: 'Pushed', message: `pushed to ${pushed.url}` }
          : { type: 'MetricsPushed', status: 'False', reason: pushed.reason, message: `${pushed.message}; retrying, the run itself is not affected` },
      );
    }
    return {
      phase,
      observedGeneration: t.generation,
      conditions: mergeConditions(prev?.conditions, conditions, new Date()),
      attempts: ctx.attempt,
      message: phase === 'Retrying' || failed ? `${ctx.lastError?.reason ?? 'Error'}: ${ctx.lastError?.message ?? ''}` : undefined,
      startedAt: iso(ctx.startedAt),
      completedAt: iso(ctx.completedAt),
      runId: ctx.runId,
      renewal: benchmarkStateName(snapshot) === 'renewingService' ? ctx.renewal : undefined,
      progress: phase === 'Running' ? ctx.progress : undefined,
      results: ctx.results,
      reports: ctx.reports,
    };
  }

  protected transitionEvent(state: string, ctx: BenchmarkContext) {
    const err = ctx.lastError ? `${ctx.lastError.reason}: ${ctx.lastError.message}` : '';
    switch (state) {
      case 'waitingForService':
        return { type: 'Normal' as const, reason: 'WaitingForService', message: 'waiting for the service to be ready' };
      case 'renewingService':
        return { type: 'Normal' as const, reason: 'RenewingService', message: `${ctx.renewal?.message ?? 'its job ends too soon'}; the service is started again (a new job, no retry used) and the run starts once it is Ready` };
      case 'running':
        return { type: 'Normal' as const, reason: 'Started', message: `runner started: run ${ctx.runId}, attempt ${ctx.attempt}` };
      case 'collecting':
        return { type: 'Normal' as const, reason: 'Collecting', message: `runner finished; collecting results of ${ctx.runId}` };
      case 'interrupted':
        return { type: 'Warning' as const, reason: 'Interrupted', message: `${err}; the run is marked interrupted and runs again once the service is Ready` };
      case 'retrying':
        return { type: 'Warning' as const, reason: 'Retrying', message: `attempt ${ctx.attempt} failed (${err}); retrying` };
      case 'succeeded': {
        const r = ctx.results;
        const message = r ? `${r.requests} requests, ${r.errors} errors, ${r.throughput.toFixed(1)} req/s, p99 ${r.p99Ms.toFixed(2)}ms` : 'finished';
        return { type: 'Normal' as const, reason: 'Succeeded', message };
      }
      case 'failed':
        return { type: 'Warning' as const, reason: ctx.lastError?.reason ?? 'Failed', message: ctx.lastError?.message ?? 'failed' };
      case 'terminating':
        return { type: 'Normal' as const, reason: 'Terminating', message: 'stopping what was launched' };
      default:
        return undefined;
    }
  }

  /** Progress: a status write every few seconds and an event now and then, never one per line. */
  protected override onSameState(key: string, state: string, ctx: BenchmarkContext): void {
    if (state !== 'running' || !ctx.progress) return;
    const now = Date.now();
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
