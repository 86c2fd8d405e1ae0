// Where a Benchmark pushes: its own URL, a MonitoringStack it names (followed
// as the stack comes and goes), or the controller's --pushgateway; and the SSH
// line a MonitoringStack's status offers.
import { describe, expect, it } from 'vitest';
import { MonitoringStackSpec, RESOURCE_SCHEMAS, type BenchmarkResource, type Status } from '../../../controller/api/schemas.js';
import { pushTargetOf } from '../../../controller/reconcile/push-target.js';
import { tunnelCommand } from '../../../controller/reconcile/tunnel.js';

const bench = (pushgateway?: unknown): BenchmarkResource =>
  RESOURCE_SCHEMAS.Benchmark.parse({
    apiVersion: 'aifb.io/v1alpha1',
    kind: 'Benchmark',
    metadata: { name: 'b' },
    spec: { workload: { type: 'http', requests: [{ path: '/' }] }, serviceRef: 'web', load: { duration: '1s' }, ...(pushgateway ? { pushgateway } : {}) },
  }) as BenchmarkResource;

describe('pushTargetOf', () => {
  it('takes a URL as is, and the interval only when asked', () => {
    const p = pushTargetOf(bench('http://gw:9091'), () => undefined);
    expect(p?.target()).toEqual({ url: 'http://gw:9091' });
    expect(p?.intervalMs).toBeUndefined();
    expect(pushTargetOf(bench({ url: 'http://gw:9091', interval: '15s' }), () => undefined)?.intervalMs).toBe(15_000);
  });

  it("falls back to the controller's --pushgateway, and to nothing at all", () => {
    expect(pushTargetOf(bench(), () => undefined, { url: 'http://site:9091', intervalMs: 30_000 })).toMatchObject({ intervalMs: 30_000 });
    expect(pushTargetOf(bench(), () => undefined, { url: 'http://site:9091' })?.target()).toEqual({ url: 'http://site:9091' });
    expect(pushTargetOf(bench({ interval: '5s' }), () => undefined, { url: 'http://site:9091' })).toMatchObject({ intervalMs: 5000 });
    expect(pushTargetOf(bench(), () => undefined)).toBeUndefined();
  });

  it('follows a named MonitoringStack: waiting, with the reason, until it is Ready with a Pushgateway', () => {
    let status: Status | undefined;
    const p = pushTargetOf(bench({ monitoringStackRef: 'mon', interval: '2s' }), (key) => (key === 'MonitoringStack/mon' ? status : undefined))!;
    expect(p.target()).toEqual({ waiting: 'no MonitoringStack named "mon"; create it or fix spec.pushgateway.monitoringStackRef' });
    status = { phase: 'Starting' };
    expect(p.target()).toEqual({ waiting: 'MonitoringStack mon is Starting; pushing once it is Ready' });
    status = { phase: 'Ready', endpoints: { prometheus: { host: 'n1', port: 9090 } } };
    expect(p.target()).toEqual({ waiting: 'MonitoringStack mon runs no Pushgateway; set its spec.pushgateway.enabled: true' });
    status = { phase: 'Ready', endpoints: { pushgateway: { host: 'n1', port: 9091 } } };
    expect(p.target()).toEqual({ url: 'http://n1:9091' });
  });

  it('refuses what cannot work, naming the field', () => {
    const problems = (pushgateway: unknown) => {
      const r = RESOURCE_SCHEMAS.Benchmark.safeParse({ apiVersion: 'aifb.io/v1alpha1', kind: 'Benchmark', metadata: { name: 'b' }, spec: { workload: { type: 'http', requests: [{ path: '/' }] }, serviceRef: 'web', load: { duration: '1s' }, pushgateway } });
      return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    };
    expect(problems({ url: 'http://gw:9091', monitoringStackRef: 'mon' })).toContainEqual('spec.pushgateway.url: set url or monitoringStackRef, not both');
    expect(problems({ url: 'http://gw:9091', interval: '100ms' })).toContainEqual('spec.pushgateway.interval: at least 1s: a Pushgateway is not a stream');
    expect(problems('gw:9091')).toEqual(['spec.pushgateway: give the Pushgateway as an http:// URL (http://mel2345:9091), or as { url | monitoringStackRef, interval }']);
    expect(problems({ url: 'gw:9091' })).toEqual(['spec.pushgateway.url: must be an http:// or https:// URL, e.g. http://mel2345:9091']);
  });
});

describe('tunnelCommand', () => {
  const access = (over: Record<string, unknown> = {}) => MonitoringStackSpec.parse({ access: over }).access;

  it("forwards each component from the node through the login node, as the guide's section 7.5 types it", () => {
    const eps = { prometheus: { host: 'mel2345', port: 9090 }, pushgateway: { host: 'mel2345', port: 9091 }, grafana: { host: 'mel2345', port: 3000 } };
    expect(tunnelCommand(access({ loginHost: 'login.lxp.lu', sshPort: 8822, user: 'u100' }), eps)).toBe(
      'ssh -L 9090:mel2345:9090 -L 9091:mel2345:9091 -L 3000:mel2345:3000 u100@login.lxp.lu -p 8822',
    );
  });

  it('leaves out -p for port 22', () => {
    expect(tunnelCommand(access({ loginHost: 'login', user: 'me' }), { grafana: { host: 'n', port: 3000 } })).toBe('ssh -L 3000:n:3000 me@login');
    // A port the job chose on the node stays the well-known one on the laptop.
    expect(tunnelCommand(access({ loginHost: 'login', user: 'me' }), { grafana: { host: 'n', port: 41234 }, other: { host: 'n', port: 5000 } })).toBe('ssh -L 3000:n:41234 -L 5000:n:5000 me@login');
  });
});
