// The serve wrapper, run for real with bash on this host: the port it chooses
// and hands to the server, the endpoint record it writes once the server holds
// the port, and a stranger on the port, which is never taken for the server.
// Also the SLURM job script of a Service, run as the job would run it.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ServiceSpec } from '../../../api/schemas.js';
import { PORT_REF, serveCommand, type ServeOptions } from '../../../containers/serve-script.js';
import { SlurmExecutor } from '../../../controller/executor/slurm-executor.js';
import { serviceLaunch } from '../../../controller/reconcile/service-command.js';
import { silentLogger } from '../../../controller/runtime/logger.js';
import { Slurm } from '../../../slurm/commands.js';

// Answers every request with its name and the port it was told, so a test can see who answered.
const SERVER = `const http = require('node:http');
http.createServer((q, r) => r.end(JSON.stringify({ name: process.argv[1], port: process.argv[2], env: process.env.ADDRESS ?? null }))).listen(Number(process.argv[2]));`;
/** The server's own argv, after the wrapper's. */
const servedArgv = (command: string[]) => command.slice(command.indexOf('aifb-serve') + 1);
const server = (name: string) => [process.execPath, '-e', SERVER, name, PORT_REF];

const dirs: string[] = [];
const children: ChildProcess[] = [];
const strangers: Server[] = [];
const clients: Socket[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGTERM');
  for (const s of strangers.splice(0)) await new Promise((r) => s.close(r));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'aifb-serve-'));
  dirs.push(d);
  return d;
}

interface Run {
  child: ChildProcess;
  file: string;
  stderr: () => string;
  exited: Promise<number | null>;
}

function run(argv: string[], opts: Partial<ServeOptions> = {}, env: Record<string, string> = {}): Run {
  const file = join(tempDir(), 'endpoint.json');
  const { command, env: wrapperEnv } = serveCommand(argv, { ports: 1, endpointFile: file, host: { address: '127.0.0.1' }, launchId: 'service.s.g1.a1.service', ...opts });
  const child = spawn(command[0], command.slice(1), { env: { ...process.env, ...wrapperEnv, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  children.push(child);
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, file, stderr: () => stderr, exited };
}

const record = (file: string) => (existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : undefined);

async function until<T>(what: string, fn: () => T | undefined, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const confirmed = (r: Run) => until('the listener to be confirmed', () => (record(r.file)?.listenerPid ? record(r.file) : undefined));

function stranger(port = 0): Promise<Server> {
  return new Promise((resolve, reject) => {
    // A connection reset by its client is no fault of the test's.
    const s = createServer((c) => c.on('error', () => {}).end('stranger'));
    s.once('error', reject);
    s.listen(port, '0.0.0.0', () => {
      strangers.push(s);
      resolve(s);
    });
  });
}

const portOf = (s: Server) => (s.address() as { port: number }).port;

/**
 * A connection to a stranger, from a port the kernel chose for it (or from
 * `localPort`): a server cannot bind that port while it is open.
 */
async function clientOnPort(localPort?: number): Promise<{ client: Socket; port: number }> {
  const peer = await stranger();
  const client = connect({ port: portOf(peer), host: '127.0.0.1', ...(localPort ? { localPort } : {}) }).on('error', () => {});
  clients.push(client);
  await new Promise((resolve, reject) => client.once('connect', resolve).once('error', reject));
  return { client, port: client.localPort! };
}

describe('the serve wrapper', () => {
  it('chooses a free port for each of two servers, hands it to them, and records the pid that listens once it is theirs', async () => {
    const a = run(server('a'), {}, { ADDRESS: `0.0.0.0:${PORT_REF}` });
    const b = run(server('b'));
    const [ra, rb] = [await confirmed(a), await confirmed(b)];
    expect(ra.port).not.toBe(rb.port);
    expect(ra).toEqual({ host: '127.0.0.1', port: expect.any(Number), launchId: 'service.s.g1.a1.service', pid: a.child.pid, listenerPid: expect.any(Number) });
    // The listener is the server the wrapper started (its child), not the wrapper.
    expect(ra.listenerPid).not.toBe(a.child.pid);
    expect(readFileSync(`/proc/${ra.listenerPid}/stat`, 'utf8').split(') ')[1].split(' ')[1]).toBe(String(a.child.pid));
    // Arguments and environment got the port.
    const answer = await (await fetch(`http://127.0.0.1:${ra.port}/`)).json();
    expect(answer).toEqual({ name: 'a', port: String(ra.port), env: `0.0.0.0:${ra.port}` });
    expect((await (await fetch(`http://127.0.0.1:${rb.port}/`)).json()).name).toBe('b');
  });

  it('says first where it will answer, and which SLURM job wrote that', async () => {
    const r = run([process.execPath, '-e', 'setTimeout(() => {}, 60_000)'], { port: 45_123 }, { SLURM_JOB_ID: '4711' });
    const early = await until('the first record', () => record(r.file));
    expect(early).toEqual({ host: '127.0.0.1', port: 45_123, launchId: 'service.s.g1.a1.service', pid: r.child.pid, jobId: '4711' });
  });

  it('fails at once, naming the fix, when the pinned port is held by another process: the stranger is never recorded', async () => {
    const s = await stranger();
    const r = run(server('ours'), { port: portOf(s) });
    expect(await r.exited).toBe(75);
    expect(r.stderr()).toContain(`port ${portOf(s)} (spec.port) is already in use`);
    expect(r.stderr()).toContain('remove spec.port so that the job chooses a free port');
    expect(record(r.file)).toBeUndefined();
  });

  it('stops when a stranger takes the port before the server listens, and never records a listener', async () => {
    const s = await stranger();
    const port = portOf(s);
    await new Promise((r) => s.close(r));
    strangers.length = 0;
    // A server that never listens, and a stranger that takes the port after the wrapper found it free.
    const r = run([process.execPath, '-e', 'setTimeout(() => {}, 60_000)'], { port });
    await until('the first record', () => record(r.file));
    await stranger(port);
    expect(await r.exited).toBe(75);
    expect(r.stderr()).toContain(`port ${port} on 127.0.0.1 is held by a process that is not this job's server`);
    expect(record(r.file).listenerPid).toBeUndefined();
  });

  it("starts the server once more when a client's connection held the pinned port, once that connection is gone", async () => {
    const { client, port } = await clientOnPort();
    const r = run(server('ours'), { port });
    await until('the wait for the connection', () => (r.stderr().includes('waiting up to 65s') ? true : undefined));
    expect(r.stderr()).toContain(`the server ended (exit 1) before it listened on port ${port}, which connections of other processes hold`);
    client.resetAndDestroy();
    expect((await confirmed(r)).port).toBe(port);
    expect((await (await fetch(`http://127.0.0.1:${port}/`)).json()).name).toBe('ours');
  });

  it("names the range clients' ports come from when a connection keeps holding the pinned port", async () => {
    const { port } = await clientOnPort();
    const r = run(server('ours'), { port }, { AIFB_PORT_WAIT: '1' });
    expect(await r.exited).toBe(1);
    const [lo, hi] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/);
    expect(r.stderr()).toContain(`connections of other processes still hold port ${port}: it lies in`);
    expect(r.stderr()).toContain(`(${lo}-${hi}, /proc/sys/net/ipv4/ip_local_port_range)`);
    expect(r.stderr()).toContain('set spec.port outside that range, or remove spec.port');
    expect(record(r.file).listenerPid).toBeUndefined();
  });

  it('waits for nothing when a server on a pinned port below that range ends: sockets there are no client\'s', async () => {
    const [lo] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    // A connection on a port below the range (its client names the port, the first one free).
    let held: { port: number } | undefined;
    for (let p = lo - 1000; !held && p < lo; p += 7) held = await clientOnPort(p).catch(() => undefined);
    const r = run([process.execPath, '-e', 'process.exit(3)'], { port: held!.port });
    expect(await r.exited).toBe(3);
    expect(r.stderr()).toContain(`the server ended (exit 3) before it listened on port ${held!.port}`);
    expect(r.stderr()).not.toContain('waiting');
    expect(r.stderr()).not.toContain('range for clients');
  });

  it('ends with the server, and ends the server when it is stopped', async () => {
    const failing = run([process.execPath, '-e', 'process.exit(3)']);
    expect(await failing.exited).toBe(3);
    expect(failing.stderr()).toMatch(/the server ended \(exit 3\) before it listened on port \d+/);

    const r = run(server('a'));
    const { listenerPid } = await confirmed(r);
    r.child.kill('SIGTERM');
    expect(await r.exited).toBe(143);
    expect(existsSync(`/proc/${listenerPid}`)).toBe(false);
  });

  it("publishes an interface's IPv4 address, or says that it has none", async () => {
    expect((await confirmed(run(server('a'), { host: { interface: 'lo' } }))).host).toBe('127.0.0.1');
    const none = run(server('a'), { host: { interface: 'aifbnone0' } });
    expect(await none.exited).toBe(78);
    expect(none.stderr()).toContain('interface aifbnone0 has no IPv4 address on');
  });
});

describe("a Service's SLURM job script", () => {
  it('runs the server through the wrapper, which chooses the port on the node and writes it with the job id', async () => {
    const dir = tempDir();
    const file = join(dir, 'endpoint.json');
    const spec = ServiceSpec.parse({ type: 'http', command: server('job'), slurm: { interface: 'lo' } });
    const launch = serviceLaunch(spec, { dataDir: join(dir, 'data'), executor: 'slurm', stateDir: dir, endpointFile: file, launchId: 'service.web.g1.a1.service' });
    expect(servedArgv(launch.command)).toEqual(server('job'));
    const executor = new SlurmExecutor({ stateDir: dir, slurm: new Slurm(), log: silentLogger });
    const script = executor.render({ kind: 'Service', name: 'web', uid: 'u1', generation: 1, attempt: 1, role: 'service', command: launch.command, env: launch.env, dir });
    expect(script).toMatch(/^export AIFB_PORT=free$/m);
    expect(script).toMatch(/^export AIFB_ENDPOINT_HOST=interface:lo$/m);
    expect(script).toMatch(/^exec bash -c '# aifb-serve: /m);

    // As sbatch would run it on the node (the #SBATCH lines are comments to bash).
    const job = spawn('bash', ['-c', script], { env: { ...process.env, SLURM_JOB_ID: '99' }, stdio: 'ignore' });
    children.push(job);
    const r = await until('the listener to be confirmed', () => (record(file)?.listenerPid ? record(file) : undefined));
    expect(r).toMatchObject({ host: '127.0.0.1', launchId: 'service.web.g1.a1.service', jobId: '99', pid: job.pid });
    expect((await (await fetch(`http://127.0.0.1:${r.port}/`)).json()).name).toBe('job');
  });
});
