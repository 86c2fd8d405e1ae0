// Which launch a Service gets from the executor it runs under: the local
// executor runs postgresql, s3, minio and chromadb as host programs (on a free
// port when the spec names none), SLURM runs the catalog's container. The
// processes themselves are started for real in test/e2e/native-services.test.ts.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { POSTGRES_MAIN, S3_MAIN } from '../../../containers/native/native-services.js';
import { reconcilerWorld, type ReconcilerWorld } from './harness.js';

// Plays a host without the server's program: the real planner, unless a test sets a message.
const missing = vi.hoisted(() => ({ message: undefined as string | undefined }));
vi.mock('../../../containers/native/native-services.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../../containers/native/native-services.js')>();
  return {
    ...real,
    nativeLaunch: (...args: Parameters<typeof real.nativeLaunch>) => {
      if (missing.message) throw new real.NativeServiceUnavailable(missing.message);
      return real.nativeLaunch(...args);
    },
  };
});

const service = (name: string, type: string, extra = '') =>
  `apiVersion: aifb.io/v1alpha1\nkind: Service\nmetadata:\n  name: ${name}\nspec:\n  type: ${type}\n  readiness: { type: none }\n  retries: { max: 2, backoff: 10s }\n${extra}`;

let world: ReconcilerWorld | undefined;
afterEach(() => {
  world?.shutdown();
  missing.message = undefined;
});

const launchOf = (w: ReconcilerWorld) => [...w.executor.launches.values()][0].spec;

describe('Services under the local executor', () => {
  it('postgresql runs natively on a free port, publishes that port, and gets its password by reference', async () => {
    world = reconcilerWorld();
    await world.apply(service('db', 'postgresql'));
    await world.advance(1000);
    const launch = launchOf(world);
    const passwordFile = `${world.paths.stateDir}/services/db/credentials/password`;
    expect(launch.command.slice(0, 2)).toEqual([process.execPath, POSTGRES_MAIN]);
    expect(launch.command).toEqual(expect.arrayContaining(['--data', `${world.paths.stateDir}/services/db/g1-a1/data`, '--database', 'aifb']));
    expect(launch.env).toEqual({ POSTGRES_USER: 'aifb' });
    expect(launch.secretEnv).toEqual({ POSTGRES_PASSWORD: { file: passwordFile } });
    const port = launch.endpoint!.port;
    expect(port).not.toBe(5432);
    expect(launch.command).toEqual(expect.arrayContaining(['--port', String(port)]));
    expect(world.status('Service/db')).toMatchObject({
      phase: 'Ready',
      endpoint: { scheme: 'postgresql', host: '127.0.0.1', port, database: 'aifb', credentials: { user: 'aifb', password: { file: passwordFile } } },
    });
  });

  it("uses spec.port when given, and the user's credentials and spec.env as given", async () => {
    world = reconcilerWorld();
    await world.apply(service('store', 's3', '  port: 19000\n  credentials: { user: bench, password: { env: S3_SECRET } }\n  env: { TZ: UTC, EXTRA: { file: /keys/extra } }\n'));
    await world.advance(1000);
    const launch = launchOf(world);
    expect(launch.command.slice(0, 2)).toEqual([process.execPath, S3_MAIN]);
    expect(launch.endpoint!.port).toBe(19000);
    expect(launch.env).toEqual({ MINIO_ROOT_USER: 'bench', TZ: 'UTC' });
    expect(launch.secretEnv).toEqual({ MINIO_ROOT_PASSWORD: { env: 'S3_SECRET' }, EXTRA: { file: '/keys/extra' } });
    expect(world.status('Service/store')?.endpoint).toMatchObject({ port: 19000, region: 'us-east-1', credentials: { user: 'bench', password: { env: 'S3_SECRET' } } });
  });

  it('keeps the container when the spec names an image, and under SLURM', async () => {
    world = reconcilerWorld();
    await world.apply(service('pinned', 'postgresql', '  image: docker://postgres:17\n'));
    expect(launchOf(world).command[0]).toBe('apptainer');
    world.shutdown();

    world = reconcilerWorld();
    world.executor.name = 'slurm';
    await world.apply(service('vectors', 'chromadb'));
    const launch = launchOf(world);
    expect(launch.command[0]).toBe('apptainer');
    expect(launch.endpoint!.port).toBe(8000);
  });

  it('fails at once, without retrying, when the native server is not installed, with what to install', async () => {
    world = reconcilerWorld();
    missing.message = 'spec.type postgresql: ... apt-get install postgresql, or set spec.endpoint';
    await world.apply(service('db', 'postgresql'));
    await world.advance(60_000);
    const st = world.status('Service/db')!;
    expect(st).toMatchObject({ phase: 'Failed', attempts: 1 });
    expect(st.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'False', reason: 'ProgramNotFound' });
    expect(st.message).toContain('apt-get install postgresql');
    expect(world.executor.log.filter((l) => l.startsWith('launch'))).toHaveLength(0);
  });
});
