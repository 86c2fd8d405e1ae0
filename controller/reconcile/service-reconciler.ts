// Reconciles Service resources: start (or adopt) the service, check readiness,
// publish how to reach it in status so benchmarks that reference it can start.
import type { SnapshotFrom } from 'xstate';
import { lifecyclePhase, type LifecycleContext } from '../../machines/lifecycle-machine.js';
import { serviceMachine, type ServiceEndpoint } from '../../machines/service.js';
import type { ServiceResource, Status } from '../api/schemas.js';
import { lifecycleEvent, lifecycleStatus } from './lifecycle-status.js';
import { MachineReconciler, type Target } from './machine-reconciler.js';
import { serviceConnection } from './service-connection.js';
import { serviceEffects } from './service-effects.js';
import { serviceNameOf } from './owned-service.js';

type M = typeof serviceMachine;
type Ctx = LifecycleContext<ServiceEndpoint>;

const answering = (ctx: Ctx) => (ctx.started ? `answering at ${ctx.started.host}:${ctx.started.port}` : 'ready');

export class ServiceReconciler extends MachineReconciler<M, ServiceResource> {
  protected readonly kind = 'Service' as const;

  protected machineFor(t: Target<ServiceResource>) {
    const { spec, metadata } = t.resource;
    return {
      machine: serviceMachine.provide({ actors: serviceEffects(this.deps, t) as never }),
      input: {
        name: metadata.name,
        generation: t.generation,
        retries: spec.retries,
        ...(spec.endpoint ? { given: { host: spec.endpoint.host, port: spec.endpoint.port } } : {}),
      },
    };
  }

  protected observe(): undefined {
    return undefined;
  }

  protected statusOf(snapshot: SnapshotFrom<M>, t: Target<ServiceResource>, prev: Status | undefined): Status {
    const ctx = snapshot.context as Ctx;
    const phase = lifecyclePhase(snapshot);
    const status = lifecycleStatus(phase, ctx, t.generation, prev, answering(ctx));
    // Benchmarks read how to reach it from here: publish it only once the service answers.
    return phase === 'Ready' && ctx.started
      ? { ...status, endpoint: serviceConnection(t.resource.spec, t.resource.metadata.name, this.deps.paths.stateDir, ctx.started) }
      : status;
  }

  protected transitionEvent(state: string, ctx: Ctx) {
    return lifecycleEvent('the service', state, ctx, answering(ctx));
  }

  /** A service that became Ready (or failed) lets the benchmarks that reference it move. */
  override async reconcile(key: string): Promise<{ requeueAfterMs?: number } | void> {
    const before = this.deps.lastStatus(key)?.phase;
    const result = await super.reconcile(key);
    const after = this.deps.lastStatus(key)?.phase;
    if (before !== after) {
      const name = key.slice(key.indexOf('/') + 1);
      for (const b of this.deps.keysOf('Benchmark')) {
        const doc = this.deps.doc(b);
        if (doc?.validation.ok && doc.validation.resource.kind === 'Benchmark' && serviceNameOf(doc.validation.resource) === name) this.deps.enqueue(b);
      }
    }
    return result;
  }
}
