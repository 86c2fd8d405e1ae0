// The MonitoringStack reconciler: its watch goes on through a scheduler that
// does not answer, so a stack that dies during the outage is seen and restarted.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { reconcilerWorld, type ReconcilerWorld } from './harness.js';

let world: ReconcilerWorld | undefined;
const servers: Server[] = [];
afterEach(async () => {
  world?.shutdown();
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

/** A stand-in for one component's HTTP port: every path answers 200, as /-/ready does once up. */
async function readyServer(): Promise<number> {
  const s = createServer((_req, res) => res.end('ok'));
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  servers.push(s);
  return (s.address() as AddressInfo).port;
}

describe('MonitoringStackReconciler', () => {
  it('keeps watching through a failed state call and restarts a stack that exited meanwhile', async () => {
    world = reconcilerWorld();
    const [prom, push] = [await readyServer(), await readyServer()];
    await world.apply(`apiVersion: aifb.io/v1alpha1
kind: MonitoringStack
metadata:
  name: mon
spec:
  prometheus: { port: ${prom} }
  pushgateway: { port: ${push} }
  grafana: { enabled: false }
`);
    await world.advance(3000);
    expect(world.status('MonitoringStack/mon')).toMatchObject({ phase: 'Ready', endpoints: { prometheus: { port: prom }, pushgateway: { port: push } } });

    // slurmctld hiccups once; by the next sweep the stack has exited.
    world.executor.script('monitoringstack.mon.g1.a1.stack', new Error('slurmctld did not answer (Connection refused)'), { state: 'exited', exitCode: 1 });
    await world.advance(2000);
    expect(world.logged.some((l) => /WARN Failed to observe launches; will keep trying .*slurmctld did not answer/.test(l))).toBe(true);
    expect(world.status('MonitoringStack/mon')).toMatchObject({ phase: 'Retrying' });
    expect(world.status('MonitoringStack/mon')!.message).toMatch(/ComponentExited: a component of monitoring stack mon exited \(code 1\)/);
    // The default backoff of a stack is 10 s; then attempt 2 runs and answers.
    await world.advance(12_000);
    expect(world.executor.log).toEqual([
      'launch monitoringstack.mon.g1.a1.stack',
      'stop monitoringstack.mon.g1.a1.stack',
      'forget monitoringstack.mon.g1.a1.stack',
      'launch monitoringstack.mon.g1.a2.stack',
    ]);
    expect(world.status('MonitoringStack/mon')).toMatchObject({ phase: 'Ready', attempts: 2 });
  });
});
