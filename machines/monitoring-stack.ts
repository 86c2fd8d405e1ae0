// The MonitoringStack lifecycle (Prometheus, Pushgateway, Grafana): the same
// machine as a Service's (lifecycle-machine.ts), with an endpoint per component.
import type { MonitoringStackSpec } from '../api/schemas.js';
import { lifecycleMachine, type LifecycleInput } from './lifecycle-machine.js';
import type { ServiceEndpoint } from './service.js';

/** Bump whenever states, context or events change shape: older persisted snapshots are then dropped. */
export const MACHINE_VERSION = 'monitoring-stack/4';

export type StackComponent = Exclude<keyof MonitoringStackSpec, 'slurm' | 'access'>;
/** Only enabled components appear, each on the port its job chose (or the spec pinned). */
export type StackEndpoints = Partial<Record<StackComponent, ServiceEndpoint>>;

export type MonitoringStackInput = LifecycleInput<StackEndpoints>;

export const monitoringStackMachine = lifecycleMachine<StackEndpoints>('monitoringStack', MACHINE_VERSION);
