// Which launch a Service gets from the executor it runs under: the local
// executor runs postgresql, s3, minio and chromadb as host programs (on a free
// port when the spec names none), SLURM runs the catalog's container, each
// through the serve wrapper. The processes themselves are started for real in
// test/e2e/native-services.test.ts.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { POSTGRES_MAIN, S3_MAIN } from '../../../containers/native/native-services.js';
import { PORT_REF } from '../../../containers/serve-script.js';
import { reconcilerWorld, type ReconcilerWorld } from './harness.js';
import { useFullSifCache } from './sif-cache.js';

useFullSifCache();

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
/** What the serve wrapper runs once it has the port: the argv after its own. */
const argvOf = (w: ReconcilerWorld) => {
  const { command } = launchOf(w);
  return command.slice(command.indexOf('aifb-serve') + 1);
};

describe('Services under the local executor', () => {
  it('postgresql runs natively on a free port, publishes that port, and gets its password by reference', async () => {
    world = reconcilerWorld();
    await world.apply(service('db', 'postgresql'));
    await world.advance(1000);
    const launch = launchOf(world);
    const passwordFile = `${world.paths.stateDir}/services/db/credentials/password`;
    const argv = argvOf(world);
    expect(launch.command.slice(0, 2)).toEqual(['bash', '-c']);
    expect(argv.slice(0, 2)).toEqual([process.execPath, POSTGRES_MAIN]);
    expect(argv).toEqual(expect.arrayContaining(['--data', `${world.paths.stateDir}/services/db/g1-a1/data`, '--database', 'aifb']));
    expect(launch.env).toEqual({
      POSTGRES_USER: 'aifb',
      AIFB_PORT: 'free',
      AIFB_ENDPOINT_FILE: `${world.paths.stateDir}/services/db/g1-a1/endpoint.json`,
      AIFB_ENDPOINT_HOST: '127.0.0.1',
      AIFB_LAUNCH_ID: 'service.db.g1.a1.service',
    });
    expect(launch.secretEnv).toEqual({ POSTGRES_PASSWORD: { file: passwordFile } });
    // The wrapper chooses the port where the server runs and hands it to the server.
    expect(argv).toEqual(expect.arrayContaining(['--port', PORT_REF]));
    const port = world.executor.freePorts - 1;
    expect(port).not.toBe(5432);
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
    expect(argvOf(world).slice(0, 2)).toEqual([process.execPath, S3_MAIN]);
    expect(launch.env).toMatchObject({ AIFB_PORT: '19000' });
    expect(launch.env).toEqual(expect.objectContaining({ MINIO_ROOT_USER: 'bench', TZ: 'UTC' }));
    expect(Object.keys(launch.env!).filter((k) => !k.startsWith('AIFB_'))).toEqual(['MINIO_ROOT_USER', 'TZ']);
    expect(launch.secretEnv).toEqual({ MINIO_ROOT_PASSWORD: { env: 'S3_SECRET' }, EXTRA: { file: '/keys/extra' } });
    expect(world.status('Service/store')?.endpoint).toMatchObject({ port: 19000, region: 'us-east-1', credentials: { user: 'bench', password: { env: 'S3_SECRET' } } });
  });

  it('keeps the container when the spec names an image, and under SLURM', async () => {
    world = reconcilerWorld();
    await world.apply(service('pinned', 'postgresql', '  image: docker://postgres:17\n'));
    expect(argvOf(world)[0]).toBe('apptainer');
    world.shutdown();

    world = reconcilerWorld();
    world.executor.name = 'slurm';
    await world.apply(service('vectors', 'chromadb'));
    expect(argvOf(world)[0]).toBe('apptainer');
    // Under SLURM too the job chooses the port (not the catalog's 8000), and publishes the node's name.
    expect(argvOf(world)).toEqual(expect.arrayContaining(['--port', PORT_REF]));
    expect(launchOf(world).env).toMatchObject({ AIFB_PORT: 'free', AIFB_ENDPOINT_HOST: 'hostname' });
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
