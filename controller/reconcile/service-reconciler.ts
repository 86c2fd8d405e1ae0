// Reconciles Service resources: start (or adopt) the service, check readiness,
// publish how to reach it in status so benchmarks that reference it can start.
import type { SnapshotFrom } from 'xstate';
import { lifecyclePhase, type LifecycleContext } from '../../machines/lifecycle-machine.js';
import { stateNameOf } from '../../machines/lifecycle.js';
import { serviceMachine, type ServiceEndpoint } from '../../machines/service.js';
import type { BenchmarkResource, ServiceResource, Status } from '../api/schemas.js';
import type { Hosted } from './actor-host.js';
import { lifecycleEvent, lifecycleStatus } from './lifecycle-status.js';
import { sharedMachine } from './resource-effects.js';
import { MachineReconciler, type Target } from './machine-reconciler.js';
import { serviceConnection } from './service-connection.js';
import { serviceEffects, serviceRef } from './service-effects.js';
import { serviceNameOf } from './owned-service.js';

type M = typeof serviceMachine;
/** One machine for every resource of the kind; each resource's effects are bound to its actor. */
const MACHINE = sharedMachine(serviceMachine);
type Ctx = LifecycleContext<ServiceEndpoint>;

/** Benchmark phases in which a runner uses the service (or is about to): a renewal then would cut its run. */
const USING = new Set(['Starting', 'Pending', 'Running']);

const answering = (ctx: Ctx, endsAt?: string) =>
  `${ctx.started ? `answering at ${ctx.started.host}:${ctx.started.port}` : 'ready'}${endsAt ? `; its job ends at ${endsAt} (spec.slurm.time)` : ''}`;

export class ServiceReconciler extends MachineReconciler<M, ServiceResource> {
  protected readonly kind = 'Service' as const;
  /** When the Ready attempt's job ends, read from the executor at each reconcile: statusOf cannot wait for it. */
  private readonly jobEnds = new Map<string, { attempt: number; endsAt?: string }>();
  /** The attempt whose renewal was last said to be put off, per key, so the event is recorded once. */
  private readonly deferred = new Map<string, number>();

  protected machineFor(t: Target<ServiceResource>) {
    const { spec, metadata } = t.resource;
    return {
      machine: MACHINE,
      effects: serviceEffects(this.deps, t),
      input: {
        name: metadata.name,
        generation: t.generation,
        retries: spec.retries,
        ...(spec.endpoint ? { given: { host: spec.endpoint.host, port: spec.endpoint.port } } : {}),
      },
    };
  }

  /**
   * Renews a Ready service that a waiting benchmark found too short of time
   * (its status.renewal names this attempt): once, however many ask, and only
   * when no benchmark runs against it, since a renewal ends the job it runs on.
   */
  protected observe(hosted: Hosted<M>, t: Target<ServiceResource>): undefined {
    const snapshot = hosted.actor.getSnapshot();
    const ctx = snapshot.context as Ctx;
    if (stateNameOf(snapshot.value) !== 'ready' || ctx.external) return undefined;
    const asking: string[] = [];
    const using: string[] = [];
    let why = '';
    for (const { name, status } of this.benchmarksOf(t.resource.metadata.name)) {
      if (status?.renewal?.attempt === ctx.attempt) {
        asking.push(name);
        why ||= status.renewal.message;
      } else if (status?.phase && USING.has(status.phase)) using.push(name);
    }
    if (asking.length === 0) return undefined;
    const names = (list: string[]) => `benchmark${list.length > 1 ? 's' : ''} ${list.join(', ')}`;
    if (using.length > 0) {
      if (this.deferred.get(t.key) !== ctx.attempt) {
        this.deferred.set(t.key, ctx.attempt);
        this.event(t.key, 'Normal', 'RenewalDeferred', `${names(asking)} asked for a new job (${why}); it is started once ${names(using)} no longer runs against this one`);
      }
      return undefined;
    }
    hosted.actor.send({ type: 'RENEW', attempt: ctx.attempt, message: `${names(asking)}: ${why}` });
    return undefined;
  }

  /** The benchmarks that use this service, with the status each last wrote. */
  private benchmarksOf(service: string): Array<{ key: string; name: string; status: Status | undefined }> {
    const out: Array<{ key: string; name: string; status: Status | undefined }> = [];
    for (const key of this.deps.keysOf('Benchmark')) {
      const doc = this.deps.doc(key);
      if (doc?.validation.ok && doc.validation.resource.kind === 'Benchmark' && serviceNameOf(doc.validation.resource as BenchmarkResource) === service) {
        out.push({ key, name: doc.validation.resource.metadata.name, status: this.deps.lastStatus(key) });
      }
    }
    return out;
  }

  protected statusOf(snapshot: SnapshotFrom<M>, t: Target<ServiceResource>, prev: Status | undefined): Status {
    const ctx = snapshot.context as Ctx;
    const phase = lifecyclePhase(snapshot);
    const job = this.jobEnds.get(t.key);
    const endsAt = phase === 'Ready' && job?.attempt === ctx.attempt ? job.endsAt : undefined;
    const status = lifecycleStatus(phase, ctx, t.generation, prev, answering(ctx, endsAt));
    // Benchmarks read how to reach it from here: publish it only once the service answers.
    return phase === 'Ready' && ctx.started
      ? { ...status, endpoint: serviceConnection(t.resource.spec, t.resource.metadata.name, this.deps.paths.stateDir, ctx.started), ...(endsAt ? { endsAt } : {}) }
      : status;
  }

  protected transitionEvent(state: string, ctx: Ctx) {
    return lifecycleEvent('the service', state, ctx, answering(ctx));
  }

  /**
   * Reads when the Ready attempt's job ends (SLURM's EndTime), so the status that
   * says Ready says it too: a benchmark decides from that status whether the job
   * lasts its run. The executor answers from its one cached listing.
   */
  private async readJobEnd(key: string): Promise<void> {
    const hosted = this.host.get(key);
    const doc = this.deps.doc(key);
    const attempt = this.readyAttempt(key);
    const meta = this.deps.meta.get(key);
    if (!hosted || attempt === undefined || !meta || !doc?.validation.ok || doc.validation.resource.kind !== 'Service') return void this.jobEnds.delete(key);
    const target = { key, resource: doc.validation.resource as ServiceResource, uid: meta.uid, generation: hosted.generation };
    const launched = await this.deps.executor.find(serviceRef(target, attempt));
    // A scheduler that does not answer now leaves the last known end: it rarely moves.
    const state = launched ? await this.deps.executor.state(launched).catch(() => undefined) : undefined;
    if (!state) return;
    this.jobEnds.set(key, { attempt, endsAt: state.state === 'running' ? state.endsAt : undefined });
  }

  /** The attempt of a Ready service that aifb launched; undefined for any other. */
  private readyAttempt(key: string): number | undefined {
    const snapshot = this.host.get(key)?.actor.getSnapshot();
    const ctx = snapshot?.context as Ctx | undefined;
    return snapshot && ctx && stateNameOf(snapshot.value) === 'ready' && !ctx.external ? ctx.attempt : undefined;
  }

  /** A service that became Ready (or failed), was started again or got another end lets the benchmarks that use it move. */
  override async reconcile(key: string): Promise<{ requeueAfterMs?: number } | void> {
    const seen = (s: Status | undefined) => `${s?.phase}/${s?.attempts}/${s?.endsAt}`;
    const before = seen(this.deps.lastStatus(key));
    await this.readJobEnd(key);
    let result = await super.reconcile(key);
    // Became Ready after the job's end was read: once more, before any benchmark is told, so none sees a Ready without its end.
    if (this.readyAttempt(key) !== undefined && this.jobEnds.get(key)?.attempt !== this.readyAttempt(key)) {
      await this.readJobEnd(key);
      result = await super.reconcile(key);
    }
    if (before !== seen(this.deps.lastStatus(key))) {
      for (const b of this.benchmarksOf(key.slice(key.indexOf('/') + 1))) this.deps.enqueue(b.key);
    }
    return result;
  }
}
