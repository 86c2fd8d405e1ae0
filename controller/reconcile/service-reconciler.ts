// Reconciles Service resources: start (or adopt) the service, check readiness,
// publish its endpoint in status so benchmarks that reference it can start.
import type { SnapshotFrom } from 'xstate';
import { serviceMachine, servicePhase, type ServiceContext } from '../../machines/service.js';
import type { ServiceResource, Status } from '../api/schemas.js';
import { lifecycleEvent, lifecycleStatus } from './lifecycle-status.js';
import { MachineReconciler, type Target } from './machine-reconciler.js';
import { serviceEffects } from './service-effects.js';
import { serviceConnection } from './service-connection.js';
import { serviceNameOf } from './owned-service.js';

type M = typeof serviceMachine;

export class ServiceReconciler extends MachineReconciler<M, ServiceResource> {
  protected readonly kind = 'Service' as const;


  protected machineFor(t: Target<ServiceResource>) {
    const { spec, metadata } = t.resource;
    const base = { name: metadata.name, generation: t.generation, retries: spec.retries };
    return {
      machine: serviceMachine.provide({ actors: serviceEffects(this.deps, t) as never }),
      input: spec.endpoint ? { ...base, external: true, endpoint: { host: spec.endpoint.host, port: spec.endpoint.port } } : { ...base, external: false },
    };
  }

  protected observe(): undefined {
    return undefined;
  }

  protected statusOf(snapshot: SnapshotFrom<M>, t: Target<ServiceResource>, prev: Status | undefined): Status {
    const ctx = snapshot.context as ServiceContext;
    const phase = servicePhase(snapshot);
    const ep = ctx.endpoint;
    const status = lifecycleStatus(phase, ctx, t.generation, prev, ep ? `answering at ${ep.host}:${ep.port}` : 'ready');
    // Benchmarks read how to reach it from here: publish it only once the service answers.
    return phase === 'Ready' && ep ? { ...status, endpoint: serviceConnection(t.resource.spec, t.resource.metadata.name, this.deps.paths.stateDir, ep) } : status;
  }

  protected transitionEvent(state: string, ctx: ServiceContext) {
    return lifecycleEvent('the service', state, ctx, ctx.endpoint ? `answering at ${ctx.endpoint.host}:${ctx.endpoint.port}` : 'ready');
  }

  /** A service that became Ready (or failed) lets the benchmarks that reference it move. */
  override async reconcile(key: string): Promise<void> {
    const before = this.deps.lastStatus(key)?.phase;
    await super.reconcile(key);
    const after = this.deps.lastStatus(key)?.phase;
    if (before !== after) {
      const name = key.slice(key.indexOf('/') + 1);
      for (const b of this.deps.keysOf('Benchmark')) {
        const doc = this.deps.doc(b);
        if (doc?.validation.ok && doc.validation.resource.kind === 'Benchmark' && serviceNameOf(doc.validation.resource) === name) this.deps.enqueue(b);
      }
    }
  }
}
