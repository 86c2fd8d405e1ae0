// Services the local executor runs as programs on this host, from a spec that
// names only the type: a real controller process starts PostgreSQL (Debian's
// binaries), S3 (s3rver) and ChromaDB (`chroma run`), publishes where each
// answers with its credentials by reference, and stops every process on delete.
import { existsSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { api, isAlive, killLaunches, startController, stopProcess, until, workspace, type ControllerProcess, type Workspace } from './harness.js';
import { Client, s3sdk } from './server-clients.js';

let controller: ControllerProcess | undefined;
let ws: Workspace | undefined;
afterEach(async () => {
  if (controller) await stopProcess(controller.child);
  if (ws) killLaunches(ws);
  controller = undefined;
  ws = undefined;
});

const service = (name: string, type: string, extra = '') =>
  `apiVersion: aifb.io/v1alpha1\nkind: Service\nmetadata:\n  name: ${name}\nspec:\n  type: ${type}\n  readiness: { interval: 500ms, timeout: 2m }\n  retries: { max: 0 }\n${extra}`;

/** Applies the service and waits until it is Ready; a Failed one fails the test with its message. */
async function ready(name: string, yaml: string) {
  writeFileSync(join(ws!.resources, `${name}.yaml`), yaml);
  return until(`${name} Ready`, async () => {
    const { body } = await api(controller!.url, `/api/v1/services/${name}`);
    if (body.status?.phase === 'Failed') throw new Error(`${name} failed: ${body.status.message}`);
    return body.status?.phase === 'Ready' ? body : undefined;
  }, 120_000, 300);
}

/** The pids the local executor recorded for the service's launch. */
function launchPids(name: string): number[] {
  const procs = join(ws!.state, 'procs');
  const records = readdirSync(procs)
    .filter((f) => f.startsWith(`service.${name}.`) && !f.endsWith('.exit.json'))
    .map((f) => JSON.parse(readFileSync(join(procs, f), 'utf8')) as { pids: number[] });
  expect(records).toHaveLength(1);
  return records[0].pids;
}

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

const portOpen = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });

/** Deletes the file and waits until the API forgets the service: by then every process must be gone and the port closed. */
async function deleteAndCheckGone(name: string, port: number, pids: number[]) {
  rmSync(join(ws!.resources, `${name}.yaml`));
  await until(`${name} forgotten`, async () => ((await api(controller!.url, `/api/v1/services/${name}`)).status === 404 ? true : undefined), 60_000);
  for (const pid of pids) expect(isAlive(pid), `pid ${pid} still runs`).toBe(false);
  expect(await portOpen(port)).toBe(false);
}

const secretFile = (name: string) => join(ws!.state, 'services', name, 'credentials', 'password');

describe('Services the local executor runs natively', () => {
  it('postgresql: initdb, user, password, database and server args from the spec; Ready on a free port; stopped on delete', async () => {
    ws = workspace();
    controller = await startController(ws);
    const body = await ready('db', service('db', 'postgresql', '  database: bench_db\n  args: ["-c", "max_connections=37"]\n'));
    const endpoint = body.status.endpoint;
    // No spec.port: a free port, not 5432 (which a PostgreSQL on this host may hold), published in status.
    expect(endpoint).toEqual({
      scheme: 'postgresql',
      host: '127.0.0.1',
      port: expect.any(Number),
      database: 'bench_db',
      credentials: { user: 'aifb', password: { file: secretFile('db') } },
    });
    expect(endpoint.port).not.toBe(5432);
    const password = readFileSync(secretFile('db'), 'utf8').trim();
    expect(statSync(secretFile('db')).mode & 0o777).toBe(0o600);

    // A real session with the published user, password and database.
    const client = new Client({ host: endpoint.host, port: endpoint.port, user: endpoint.credentials.user, password, database: endpoint.database });
    await client.connect();
    const { rows } = await client.query('SELECT current_user AS u, current_database() AS d, version() AS v');
    // spec.args reach the server.
    const settings = await client.query('SHOW max_connections');
    await client.end();
    expect(rows[0]).toMatchObject({ u: 'aifb', d: 'bench_db', v: expect.stringMatching(/^PostgreSQL \d+/) });
    expect(settings.rows[0]).toEqual({ max_connections: '37' });
    // Over TCP it wants that password.
    const wrong = new Client({ host: endpoint.host, port: endpoint.port, user: 'aifb', password: 'not-the-password', database: 'bench_db' });
    await expect(wrong.connect()).rejects.toThrow(/password authentication failed/);

    // Its data and socket are in the attempt's data folder; as root the server runs as the postgres user.
    const data = join(ws.state, 'services', 'db', 'g1-a1', 'data');
    expect(existsSync(join(data, 'pgdata', 'PG_VERSION'))).toBe(true);
    expect(existsSync(join(data, 'sockets', `.s.PGSQL.${endpoint.port}`))).toBe(true);
    const postmaster = Number(readFileSync(join(data, 'pgdata', 'postmaster.pid'), 'utf8').split('\n')[0]);
    expect(isAlive(postmaster)).toBe(true);
    if (process.getuid?.() === 0) expect(statSync(`/proc/${postmaster}`).uid).not.toBe(0);

    await deleteAndCheckGone('db', endpoint.port, [...launchPids('db'), postmaster]);
  }, 180_000);

  it('s3: s3rver on a free port, objects in the attempt folder, only the published key pair works; stopped on delete', async () => {
    ws = workspace();
    controller = await startController(ws);
    const body = await ready('store', service('store', 's3', '  region: eu-west-1\n'));
    const endpoint = body.status.endpoint;
    expect(endpoint).toEqual({
      scheme: 'http',
      host: '127.0.0.1',
      port: expect.any(Number),
      region: 'eu-west-1',
      credentials: { user: 'aifb', password: { file: secretFile('store') } },
    });
    const secret = readFileSync(secretFile('store'), 'utf8').trim();
    const s3 = (secretAccessKey: string) =>
      new s3sdk.S3Client({ endpoint: `http://${endpoint.host}:${endpoint.port}`, region: endpoint.region, forcePathStyle: true, credentials: { accessKeyId: endpoint.credentials.user, secretAccessKey } });

    const client = s3(secret);
    await client.send(new s3sdk.CreateBucketCommand({ Bucket: 'bench-bucket' }));
    await client.send(new s3sdk.PutObjectCommand({ Bucket: 'bench-bucket', Key: 'runs/a b+c.txt', Body: 'stored natively' }));
    const got = await client.send(new s3sdk.GetObjectCommand({ Bucket: 'bench-bucket', Key: 'runs/a b+c.txt' }));
    expect(await got.Body.transformToString()).toBe('stored natively');
    const listed = await client.send(new s3sdk.ListObjectsV2Command({ Bucket: 'bench-bucket', Prefix: 'runs/' }));
    expect(listed.Contents.map((o: { Key: string }) => o.Key)).toEqual(['runs/a b+c.txt']);
    expect(readdirSync(join(ws.state, 'services', 'store', 'g1-a1', 'data'))).toContain('bench-bucket');

    // A wrong secret, a key it does not know, or no signature at all: refused, as S3 refuses them.
    await expect(s3('wrong-secret').send(new s3sdk.GetObjectCommand({ Bucket: 'bench-bucket', Key: 'runs/a b+c.txt' }))).rejects.toMatchObject({ name: 'SignatureDoesNotMatch' });
    const stranger = new s3sdk.S3Client({ endpoint: `http://${endpoint.host}:${endpoint.port}`, region: 'eu-west-1', forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
    await expect(stranger.send(new s3sdk.ListBucketsCommand({}))).rejects.toMatchObject({ name: 'InvalidAccessKeyId' });
    const anonymous = await fetch(`http://${endpoint.host}:${endpoint.port}/bench-bucket/runs/a%20b%2Bc.txt`);
    expect(anonymous.status).toBe(403);
    expect(await anonymous.text()).toContain('<Code>AccessDenied</Code>');

    await deleteAndCheckGone('store', endpoint.port, launchPids('store'));
  }, 120_000);

  it('chromadb: `chroma run` on the port the spec gives, heartbeat and a collection; stopped on delete', async () => {
    ws = workspace();
    controller = await startController(ws);
    const port = await freePort();
    const body = await ready('vectors', service('vectors', 'chromadb', `  port: ${port}\n`));
    expect(body.status.endpoint).toEqual({ scheme: 'http', host: '127.0.0.1', port });
    const heartbeat = await fetch(`http://127.0.0.1:${port}/api/v2/heartbeat`);
    expect(heartbeat.status).toBe(200);
    expect(await heartbeat.json()).toHaveProperty(['nanosecond heartbeat']);
    const created = await fetch(`http://127.0.0.1:${port}/api/v2/tenants/default_tenant/databases/default_database/collections`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'bench' }),
    });
    expect(created.status).toBe(200);
    expect(await created.json()).toMatchObject({ name: 'bench' });
    // Persisted in the attempt's data folder.
    expect(readdirSync(join(ws.state, 'services', 'vectors', 'g1-a1', 'data'))).toContain('chroma.sqlite3');

    await deleteAndCheckGone('vectors', port, launchPids('vectors'));
  }, 120_000);
});
