// The Service reconciler with its real effects, a fake executor and simulated time.
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ProgramNotFound } from '../../../controller/executor/types.js';
import { reconcilerWorld, type ReconcilerWorld } from './harness.js';
import { useFullSifCache } from './sif-cache.js';

useFullSifCache();

const service = (name: string, extra = '') => `apiVersion: aifb.io/v1alpha1
kind: Service
metadata:
  name: ${name}
spec:
  type: postgresql
  port: 5432
  readiness: { type: none }
  retries: { max: 2, backoff: 10s }
${extra}`;

let world: ReconcilerWorld | undefined;
afterEach(() => world?.shutdown());

describe('ServiceReconciler', () => {
  it('launches, learns where the service landed and publishes how to reach it, secrets by reference', async () => {
    world = reconcilerWorld();
    // Under SLURM a PostgreSQL runs from the catalog's container (the local executor runs it natively).
    world.executor.name = 'slurm';
    await world.apply(service('db'));
    await world.advance(1000);
    const st = world.status('Service/db')!;
    expect(st.phase).toBe('Ready');
    expect(st.endpoint).toEqual({
      scheme: 'postgresql',
      host: '127.0.0.1',
      port: 5432,
      database: 'aifb',
      credentials: { user: 'aifb', password: { file: `${world.paths.stateDir}/services/db/credentials/password` } },
    });
    // The container gets the generated password by reference, never as a value.
    const file = (st.endpoint!.credentials as { password: { file: string } }).password.file;
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const launch = [...world.executor.launches.values()][0];
    expect(launch.spec.secretEnv).toEqual({ APPTAINERENV_POSTGRES_PASSWORD: { file } });
    expect(JSON.stringify(launch.spec.command) + JSON.stringify(launch.spec.env)).not.toContain(readFileSync(file, 'utf8').trim());
    expect(world.executor.log).toEqual(['launch service.db.g1.a1.service']);
  });

  it("passes a container's environment off its command line, secrets by reference only", async () => {
    world = reconcilerWorld();
    world.executor.name = 'slurm';
    await world.apply(service('web', '  env: { MODE: fast, HF_TOKEN: { file: /home/me/.hf-token } }\n'));
    const launch = [...world.executor.launches.values()][0];
    expect(launch.spec.command.join(' ')).not.toMatch(/--env|MODE|HF_TOKEN/);
    expect(launch.spec.env).toMatchObject({ APPTAINERENV_MODE: 'fast', APPTAINERENV_POSTGRES_USER: 'aifb' });
    expect(launch.spec.secretEnv).toMatchObject({ APPTAINERENV_HF_TOKEN: { file: '/home/me/.hf-token' } });
  });

  it('stops an attempt that exited before the backoff, then starts the next: never two at once', async () => {
    world = reconcilerWorld();
    await world.apply(service('db'));
    await world.advance(1000);
    world.executor.exitAll('db', 137, { reason: 'OUT_OF_MEMORY', retryable: true });
    await world.advance(2000);
    expect(world.status('Service/db')).toMatchObject({ phase: 'Retrying', attempts: 1 });
    expect(world.status('Service/db')!.message).toMatch(/ServiceExited: service db ended \(OUT_OF_MEMORY\)/);
    expect(world.executor.log).toEqual(['launch service.db.g1.a1.service', 'stop service.db.g1.a1.service', 'forget service.db.g1.a1.service']);
    await world.advance(10_000);
    expect(world.executor.log.at(-1)).toBe('launch service.db.g1.a2.service');
    expect(world.status('Service/db')).toMatchObject({ phase: 'Ready', attempts: 2 });
  });

  it('fails at once, without retrying, when the program to run is not on this host, saying what to install or set', async () => {
    world = reconcilerWorld();
    world.executor.name = 'slurm';
    world.executor.launchError = new ProgramNotFound('apptainer', 'ENOENT');
    await world.apply(service('db'));
    await world.advance(60_000);
    const st = world.status('Service/db')!;
    expect(st).toMatchObject({ phase: 'Failed', attempts: 1 });
    expect(st.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'False', reason: 'ProgramNotFound' });
    expect(st.message).toMatch(/could not start apptainer: no such program on this host; .*install Apptainer .*or set spec\.command .*or spec\.endpoint/);
    expect(world.executor.log.filter((l) => l.startsWith('launch'))).toHaveLength(0);
  });

  it('probes a Ready service on the slow watch cadence, and counts it lost after three misses in a row', async () => {
    world = reconcilerWorld();
    let probes = 0;
    const server = createServer((c) => {
      probes++;
      c.end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    await world.apply(`apiVersion: aifb.io/v1alpha1
kind: Service
metadata:
  name: ext
spec:
  type: postgresql
  endpoint: { host: 127.0.0.1, port: ${port} }
  readiness: { type: tcp, interval: 1s, watchInterval: 10s }
  retries: { max: 0 }
`);
    await world.advance(1000);
    expect(world.status('Service/ext')?.phase).toBe('Ready');
    const atReady = probes;
    await world.advance(25_000);
    // Two probes in 25 s at a 10 s cadence, not one every readiness.interval.
    expect(probes - atReady).toBe(2);
    await new Promise<void>((r) => server.close(() => r()));
    await world.advance(20_000);
    expect(world.status('Service/ext')?.phase).toBe('Ready');
    await world.advance(10_000);
    const st = world.status('Service/ext')!;
    expect(st.phase).toBe('Failed');
    expect(st.message).toMatch(/EndpointUnreachable: service ext at 127\.0\.0\.1:\d+ stopped answering \(3 probes in a row\)/);
    // An external service has no launch: nothing is watched in the executor, nothing stopped.
    expect(world.executor.log).toEqual([]);
  });

  it('stops the service when its resource is deleted, and forgets it', async () => {
    world = reconcilerWorld();
    await world.apply(service('db'));
    await world.advance(1000);
    await world.remove('Service/db');
    await world.advance(1000);
    expect(world.executor.log).toEqual(['launch service.db.g1.a1.service', 'stop service.db.g1.a1.service', 'forget service.db.g1.a1.service']);
    expect(world.meta.get('Service/db')).toBeUndefined();
  });

  it('takes only the endpoint record its own launch wrote, not one another launch left in the folder', async () => {
    world = reconcilerWorld();
    const file = `${world.paths.stateDir}/services/db/g1-a1/endpoint.json`;
    // What an earlier job left behind: the same launch id, another process, another port.
    const stale = { host: 'elsewhere', port: 9999, launchId: 'service.db.g1.a1.service', pid: 1, listenerPid: 2 };
    world.executor.onLaunch = () => writeFileSync(file, JSON.stringify(stale));
    await world.apply(service('db'));
    await world.advance(5000);
    expect(world.status('Service/db')).toMatchObject({ phase: 'Starting' });
    // The launch's own record (the fake executor's process is 4242).
    writeFileSync(file, JSON.stringify({ ...stale, host: '127.0.0.1', port: 5432, pid: 4242, listenerPid: 4243 }));
    await world.advance(1000);
    expect(world.status('Service/db')).toMatchObject({ phase: 'Ready', endpoint: { host: '127.0.0.1', port: 5432 } });
    expect(world.logged.join('\n')).toContain('Ignored an endpoint file another launch wrote');
  });

  it('is not Ready until its job has seen the server hold the port, whatever answers there, and says so when time runs out', async () => {
    world = reconcilerWorld();
    world.executor.unconfirmed = true;
    // Something answers on the port all along: not the server the job started.
    const stranger = createServer((c) => c.end());
    await new Promise<void>((r) => stranger.listen(0, '127.0.0.1', r));
    const port = (stranger.address() as AddressInfo).port;
    await world.apply(service('db').replace('port: 5432', `port: ${port}`).replace('readiness: { type: none }', 'readiness: { type: tcp, interval: 1s, timeout: 20s }'));
    await world.advance(10_000);
    expect(world.status('Service/db')?.phase).toBe('Starting');
    await world.advance(15_000);
    await new Promise<void>((r) => stranger.close(() => r()));
    const st = world.status('Service/db')!;
    expect(st).toMatchObject({ phase: 'Retrying', attempts: 1 });
    expect(st.message).toMatch(new RegExp(`did not become ready within 20s; .*its job never saw the server listen on port ${port}: see .*/services/db/g1-a1/service\\.stderr\\.log`));
  });

  it('asks to be looked at again while its job waits in the queue', async () => {
    world = reconcilerWorld();
    world.executor.onLaunch = (_spec, launched) => world!.executor.script(launched.id, { state: 'pending', reason: 'Resources' });
    // A launch that has not written its endpoint yet: the fake writes it at once, so wait in readiness instead.
    await world.apply(service('db').replace('readiness: { type: none }', 'readiness: { type: tcp, timeout: 1h }'));
    expect(world.results.get('Service/db')).toEqual({ requeueAfterMs: 3000 });
    expect(world.status('Service/db')?.jobs).toEqual([{ role: 'service', attempt: 1, pids: [4242], state: 'pending', reason: 'Resources' }]);
  });
});
