// The stand-in apptainer (test/fakes/apptainer) run for real: a postgres image
// becomes a real PostgreSQL on the port from its args, reachable with pg_isready.
// initdb can take a while on a busy 2-core machine, hence the 60s readiness deadline.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import { Apptainer, runCommand } from '../../../containers/apptainer.js';
import { serviceContainer } from '../../../containers/service-container.js';
import { ServiceSpec } from '../../../api/schemas.js';
import { useTempDirs } from './temp-dirs.js';

const FAKE = fileURLToPath(new URL('../../fakes/apptainer', import.meta.url));
const HAVE_PG = existsSync('/usr/lib/postgresql') && existsSync('/usr/bin/pg_isready') && existsSync('/usr/bin/psql');

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

async function waitReady(port: number, child?: ChildProcess): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child && child.exitCode !== null) throw new Error(`stand-in exited with ${child.exitCode} before PostgreSQL was ready`);
    const r = await execa('pg_isready', ['-h', '127.0.0.1', '-p', String(port)], { reject: false });
    if (r.exitCode === 0) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`PostgreSQL did not accept connections on ${port} within 60s`);
}

const tempDir = useTempDirs();
/** A folder the postgres OS user can reach. */
const sharedDir = (prefix: string) => tempDir(prefix, { shared: true });

const children: ChildProcess[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) {
    if (c.exitCode === null && c.signalCode === null) {
      c.kill('SIGKILL');
      await new Promise((r) => c.once('exit', r));
    }
  }
});

const logLines = (log: string) => readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as string[]);

describe('stand-in apptainer', () => {
  it.skipIf(!HAVE_PG)('runs a postgres image as a real PostgreSQL on the requested port, with the binds and env it was given', async () => {
    const dir = sharedDir('aifb-fake-pg-');
    const log = join(dir, 'argv.jsonl');
    const port = await freePort();
    const pgdata = join(dir, 'pgdata');
    mkdirSync(pgdata);
    const c = serviceContainer(ServiceSpec.parse({ type: 'postgresql', port, gpus: 1, env: { POSTGRES_DB: 'bench db', POSTGRES_USER: 'bench' } }));
    // Without PGPORT the port can only come from the `-p` in the args (the instance test covers PGPORT).
    const { PGPORT: _unused, ...env } = c.env;
    const argv = runCommand({ ...c, env, bin: FAKE, binds: [`${pgdata}:/var/lib/postgresql/data`] });
    const child = spawn(argv[0], argv.slice(1), { env: { ...process.env, AIFB_FAKE_APPTAINER_LOG: log }, stdio: ['ignore', 'ignore', 'pipe'] });
    children.push(child);
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));

    await waitReady(port, child).catch((e) => {
      throw new Error(`${(e as Error).message}\n${stderr}`);
    });
    // Initialised in the bind source, with the user and database from the env, like the Docker image.
    expect(existsSync(join(pgdata, 'PG_VERSION'))).toBe(true);
    const q = await execa('psql', ['-h', '127.0.0.1', '-p', String(port), '-U', 'bench', '-d', 'bench db', '-Atc', 'select current_user, current_database()']);
    expect(q.stdout.trim()).toBe('bench|bench db');

    const [line] = logLines(log);
    expect(line).toEqual(argv.slice(1));
    expect(line).toContain('--nv');
    expect(line[line.indexOf('--bind') + 1]).toBe(`${pgdata}:/var/lib/postgresql/data`);
    expect(line).toContain('POSTGRES_DB=bench db');
    expect(line.slice(-3)).toEqual(['postgres', '-p', String(port)]);

    // The launched pid is PostgreSQL itself, so stopping it stops the service.
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    const after = await execa('pg_isready', ['-h', '127.0.0.1', '-p', String(port)], { reject: false });
    expect(after.exitCode).not.toBe(0);
  }, 90_000);

  it.skipIf(!HAVE_PG)('starts, lists and stops a postgres instance', async () => {
    const state = sharedDir('aifb-fake-inst-');
    const port = await freePort();
    const app = new Apptainer({ bin: FAKE, env: { AIFB_FAKE_APPTAINER_STATE: state } });
    await app.start({ name: 'pg1', image: '/sif/postgresql.sif', env: { PGPORT: String(port) }, binds: [`${state}/data:/var/lib/postgresql/data`] });
    try {
      await waitReady(port);
      const list = await app.listInstances();
      expect(list).toEqual([{ name: 'pg1', pid: expect.any(Number), image: '/sif/postgresql.sif' }]);
      await expect(app.start({ name: 'pg1', image: '/sif/postgresql.sif' })).rejects.toThrow(/already exists/);
    } finally {
      await app.stop('pg1');
    }
    expect(await app.listInstances()).toEqual([]);
    const after = await execa('pg_isready', ['-h', '127.0.0.1', '-p', String(port)], { reject: false });
    expect(after.exitCode).not.toBe(0);
  }, 90_000);

  it('fails like a bad image for `does-not-exist`, and with 127 when no native program serves the image', async () => {
    const bad = await execa(FAKE, ['run', 'docker://acme/does-not-exist:1'], { reject: false });
    expect(bad.exitCode).toBe(255);
    expect(bad.stderr).toMatch(/FATAL: could not pull image/);
    const missing = await execa(FAKE, ['run', '--nv', '/sif/some-unknown-thing.sif'], { reject: false });
    expect(missing.exitCode).toBe(127);
    expect(missing.stderr).toContain('/sif/some-unknown-thing.sif');
    const start = await execa(FAKE, ['instance', 'start', '/sif/some-unknown-thing.sif', 'x'], {
      env: { AIFB_FAKE_APPTAINER_STATE: tempDir('aifb-fake-') },
      reject: false,
    });
    expect(start.exitCode).toBe(127);
  });

  it('logs each call as one JSON array, quotes and newlines intact', async () => {
    const dir = tempDir('aifb-fake-');
    const log = join(dir, 'argv.jsonl');
    const odd = 'a "b" \\c\n$(d)\ttab';
    await execa(FAKE, ['instance', 'list', '--json', odd], { env: { AIFB_FAKE_APPTAINER_LOG: log, AIFB_FAKE_APPTAINER_STATE: dir } });
    await execa(FAKE, ['version'], { env: { AIFB_FAKE_APPTAINER_LOG: log } });
    expect(logLines(log)).toEqual([['instance', 'list', '--json', odd], ['version']]);
  });

  it('exports --env values to the native program, CSV-quoted ones included, and maps bound paths', async () => {
    const dir = sharedDir('aifb-fake-');
    const r = await execa(
      FAKE,
      ['exec', '--env', 'GREETING=hello world', '--env', '"OPTS=a=1,b=2"', '--bind', `${dir}:/data`, 'docker://postgres:16', 'sh', '-c', 'echo "$GREETING|$OPTS|$0"', '/data/x'],
      { reject: false },
    );
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toBe(`hello world|a=1,b=2|${dir}/x`);
  });
});
