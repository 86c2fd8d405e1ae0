// Reconciles MonitoringStack resources: Prometheus, Pushgateway and Grafana
// started together, their endpoints published in status once they answer.
import type { SnapshotFrom } from 'xstate';
import { lifecyclePhase, type LifecycleContext } from '../../machines/lifecycle-machine.js';
import { monitoringStackMachine, type StackEndpoints } from '../../machines/monitoring-stack.js';
import type { MonitoringStackResource, Status } from '../api/schemas.js';
import { lifecycleEvent, lifecycleStatus } from './lifecycle-status.js';
import { sharedMachine } from './resource-effects.js';
import { MachineReconciler, type Target } from './machine-reconciler.js';
import { grafanaPassword, monitoringEffects } from './monitoring-effects.js';
import { tunnelCommand } from './tunnel.js';

type M = typeof monitoringStackMachine;
/** One machine for every resource of the kind; each resource's effects are bound to its actor. */
const MACHINE = sharedMachine(monitoringStackMachine);
type Ctx = LifecycleContext<StackEndpoints>;

const describeEndpoints = (ctx: Ctx) =>
  Object.entries(ctx.started ?? {})
    .map(([c, ep]) => `${c} at ${ep!.host}:${ep!.port}`)
    .join(', ') || 'ready';

export class MonitoringStackReconciler extends MachineReconciler<M, MonitoringStackResource> {
  protected readonly kind = 'MonitoringStack' as const;

  protected machineFor(t: Target<MonitoringStackResource>) {
    return {
      machine: MACHINE,
      effects: monitoringEffects(this.deps, t),
      input: { name: t.resource.metadata.name, generation: t.generation, retries: { max: 3, backoff: 10_000, maxBackoff: 300_000 } },
    };
  }

  protected observe(): undefined {
    return undefined;
  }

  protected statusOf(snapshot: SnapshotFrom<M>, t: Target<MonitoringStackResource>, prev: Status | undefined): Status {
    const ctx = snapshot.context as Ctx;
    const phase = lifecyclePhase(snapshot);
    const status = lifecycleStatus(phase, ctx, t.generation, prev, describeEndpoints(ctx));
    if (phase !== 'Ready' || !ctx.started) return status;
    const grafana = ctx.started.grafana;
    return {
      ...status,
      endpoints: ctx.started,
      tunnel: tunnelCommand(t.resource.spec.access, ctx.started),
      ...(grafana ? { grafana: { url: `http://${grafana.host}:${grafana.port}`, adminUser: t.resource.spec.grafana.adminUser, adminPassword: grafanaPassword(this.deps, t) } } : {}),
    };
  }

  protected transitionEvent(state: string, ctx: Ctx) {
    return lifecycleEvent('the monitoring stack', state, ctx, describeEndpoints(ctx));
  }
}
