// Where a Benchmark's metrics are pushed: its own spec.pushgateway (a URL or
// a MonitoringStack it names), else the controller's --pushgateway. Resolved
// at every push, so a stack that becomes Ready (or moves) is followed.
import type { PushTarget } from '../../monitoring/push.js';
import type { BenchmarkResource, Status } from '../api/schemas.js';

export interface PushDefaults {
  url?: string;
  intervalMs?: number;
}

export interface ResolvedPush {
  target: () => PushTarget;
  /** Live pushes every intervalMs while the run goes on; undefined: only the finished run. */
  intervalMs?: number;
}

export function pushTargetOf(b: BenchmarkResource, lastStatus: (key: string) => Status | undefined, defaults: PushDefaults = {}): ResolvedPush | undefined {
  const own = b.spec.pushgateway;
  const intervalMs = (own && 'interval' in own ? own.interval : undefined) ?? defaults.intervalMs;
  const stack = own && 'monitoringStackRef' in own ? own.monitoringStackRef : undefined;
  if (stack) return { intervalMs, target: () => stackTarget(stack, lastStatus(`MonitoringStack/${stack}`)) };
  const url = own?.url ?? defaults.url;
  if (!url) return undefined;
  return { intervalMs, target: () => ({ url }) };
}

function stackTarget(name: string, status: Status | undefined): PushTarget {
  if (!status) return { waiting: `no MonitoringStack named "${name}"; create it or fix spec.pushgateway.monitoringStackRef` };
  const gateway = status.endpoints?.pushgateway;
  if (status.phase !== 'Ready') return { waiting: `MonitoringStack ${name} is ${status.phase ?? 'Pending'}; pushing once it is Ready` };
  if (!gateway) return { waiting: `MonitoringStack ${name} runs no Pushgateway; set its spec.pushgateway.enabled: true` };
  return { url: `http://${gateway.host}:${gateway.port}` };
}
