// The MonitoringStack reconciler with ports its job chooses: the status names
// the ports from the record the stack's own launch wrote (another launch's
// record is ignored), and no component is probed before that record says each
// port is held by its component.
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { LaunchSpec, Launched } from '../../../controller/executor/types.js';
import { reconcilerWorld, type ReconcilerWorld } from './harness.js';

let world: ReconcilerWorld | undefined;
const servers: Server[] = [];
afterEach(async () => {
  world?.shutdown();
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

/** A stand-in for one component's HTTP port: every path answers 200, as /-/ready does once up; it counts what it was asked. */
async function readyServer(asked: string[]): Promise<number> {
  const s = createServer((req, res) => {
    asked.push(req.url ?? '');
    res.end('ok');
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  servers.push(s);
  return (s.address() as AddressInfo).port;
}

const stack = (spec: string) => `apiVersion: aifb.io/v1alpha1\nkind: MonitoringStack\nmetadata:\n  name: mon\nspec:\n${spec}`;

describe('MonitoringStack ports chosen by its job', () => {
  it('publishes the ports its own launch recorded, in endpoints, the tunnel and the Grafana URL', async () => {
    world = reconcilerWorld();
    const asked: string[] = [];
    const [prom, push, grafana] = [await readyServer(asked), await readyServer(asked), await readyServer(asked)];
    let launch: LaunchSpec | undefined;
    world.executor.onLaunch = (spec: LaunchSpec, launched: Launched) => {
      launch = spec;
      writeFileSync(
        spec.env!.AIFB_STACK_ENDPOINT_FILE,
        JSON.stringify({ host: '127.0.0.1', port: prom, launchId: launched.id, pid: launched.pids![0], ports: { prometheus: prom, pushgateway: push, grafana }, listenerPids: { prometheus: 1, pushgateway: 2, grafana: 3 } }),
      );
    };
    await world.apply(stack('  access: { loginHost: login.example.org, user: u100 }\n'));
    await world.advance(3000);
    // The job chooses every port; the executor writes no endpoint record for it.
    expect(launch!.endpoint).toBeUndefined();
    expect(launch!.env).toMatchObject({ AIFB_PROMETHEUS_PORT: 'free', AIFB_PUSHGATEWAY_PORT: 'free', AIFB_GRAFANA_PORT: 'free', AIFB_LAUNCH_ID: 'monitoringstack.mon.g1.a1.stack' });
    expect(world.status('MonitoringStack/mon')).toMatchObject({
      phase: 'Ready',
      endpoints: { prometheus: { host: '127.0.0.1', port: prom }, pushgateway: { host: '127.0.0.1', port: push }, grafana: { host: '127.0.0.1', port: grafana } },
      tunnel: `ssh -L 9090:127.0.0.1:${prom} -L 9091:127.0.0.1:${push} -L 3000:127.0.0.1:${grafana} u100@login.example.org`,
      grafana: { url: `http://127.0.0.1:${grafana}` },
    });
    expect(asked.sort()).toEqual(['/-/ready', '/-/ready', '/api/health']);
  });

  it("ignores another launch's record, and probes nothing until its own record names every port's holder", async () => {
    world = reconcilerWorld();
    const asked: string[] = [];
    const [prom, push] = [await readyServer(asked), await readyServer(asked)];
    let file = '';
    let record: Record<string, unknown> = {};
    world.executor.onLaunch = (spec: LaunchSpec, launched: Launched) => {
      file = spec.env!.AIFB_STACK_ENDPOINT_FILE;
      record = { host: '127.0.0.1', port: prom, launchId: launched.id, pid: launched.pids![0], ports: { prometheus: prom, pushgateway: push } };
      // Left in the folder by an earlier launch of the same name and attempt: another process wrote it.
      writeFileSync(file, JSON.stringify({ ...record, pid: 1, listenerPids: { prometheus: 1, pushgateway: 2 } }));
    };
    await world.apply(stack('  prometheus: { port: 19090 }\n  grafana: { enabled: false }\n'));
    await world.advance(3000);
    expect(world.status('MonitoringStack/mon')).toMatchObject({ phase: 'Starting' });
    expect(world.logged.join('\n')).toContain('Ignored an endpoint file another launch wrote');
    expect(world.executor.launches.get('monitoringstack.mon.g1.a1.stack')!.spec.env).toMatchObject({ AIFB_PROMETHEUS_PORT: '19090', AIFB_PUSHGATEWAY_PORT: 'free' });

    // Its own record, before the job saw the components listen: where they will answer, nothing probed yet.
    writeFileSync(file, JSON.stringify(record));
    await world.advance(3000);
    expect(world.status('MonitoringStack/mon')).toMatchObject({ phase: 'Starting' });
    expect(asked).toEqual([]);

    writeFileSync(file, JSON.stringify({ ...record, listenerPids: { prometheus: 11, pushgateway: 12 } }));
    await world.advance(3000);
    expect(world.status('MonitoringStack/mon')).toMatchObject({ phase: 'Ready', endpoints: { prometheus: { port: prom }, pushgateway: { port: push } } });
    expect(asked).toEqual(['/-/ready', '/-/ready']);
  });

  it('fails the attempt when its job never sees every component listen, saying so', async () => {
    world = reconcilerWorld();
    const asked: string[] = [];
    const prom = await readyServer(asked);
    world.executor.onLaunch = (spec: LaunchSpec, launched: Launched) => {
      writeFileSync(spec.env!.AIFB_STACK_ENDPOINT_FILE, JSON.stringify({ host: '127.0.0.1', port: prom, launchId: launched.id, pid: launched.pids![0], ports: { prometheus: prom } }));
    };
    await world.apply(stack('  pushgateway: { enabled: false }\n  grafana: { enabled: false }\n'));
    await world.advance(125_000, 1000);
    const status = world.status('MonitoringStack/mon')!;
    expect(status.phase).toBe('Retrying');
    expect(status.message).toContain(`monitoring stack mon did not become ready within 120s: its job never saw every component listen on its port; see ${join(world.paths.stateDir, 'monitoring', 'mon', 'g1-a1', 'stack.stderr.log')}`);
    expect(asked).toEqual([]);
  });
});
