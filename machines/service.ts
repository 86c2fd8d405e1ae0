// The Service lifecycle: start it (or take the given endpoint), wait until it
// answers, watch it, retry with backoff, stop on DELETE (lifecycle-machine.ts).
import { lifecycleMachine, type LifecycleInput } from './lifecycle-machine.js';

/** Bump whenever states, context or events change shape: older persisted snapshots are then dropped. */
export const MACHINE_VERSION = 'service/4';

/** Where a started service answers; what clients need beyond this is the reconciler's to publish. */
export interface ServiceEndpoint {
  host: string;
  port: number;
}

export type ServiceInput = LifecycleInput<ServiceEndpoint>;

export const serviceMachine = lifecycleMachine<ServiceEndpoint>('service', MACHINE_VERSION);
