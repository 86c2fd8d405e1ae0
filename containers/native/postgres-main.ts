// The PostgreSQL the local executor runs for a `postgresql` Service:
// `node postgres-main.js --bin DIR --data DIR --state DIR --port N --database NAME -- [server args]`,
// the user in POSTGRES_USER and the password in POSTGRES_PASSWORD (as the
// container takes them). Initialises the data folder once, then serves in the
// foreground on 127.0.0.1 until it is stopped.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';

/** The few calls of node-postgres (`pg`) this uses: the project carries no @types/pg. */
interface PgClient {
  connect(): Promise<void>;
  query(text: string, values?: unknown[]): Promise<{ rowCount: number | null }>;
  escapeIdentifier(name: string): string;
  end(): Promise<void>;
}
const { Client } = createRequire(import.meta.url)('pg') as { Client: new (config: Record<string, unknown>) => PgClient };

/** Longest Unix socket path the kernel takes (sun_path is 108 bytes with its NUL). */
const MAX_SOCKET_PATH = 107;

function fail(message: string): never {
  process.stderr.write(`aifb postgresql: ${message}\n`);
  process.exit(1);
}

const log = (line: string) => process.stdout.write(`aifb postgresql: ${line}\n`);

const { values, positionals: serverArgs } = parseArgs({
  options: { bin: { type: 'string' }, data: { type: 'string' }, state: { type: 'string' }, port: { type: 'string' }, database: { type: 'string' } },
  allowPositionals: true,
  strict: true,
});
if (!values.bin || !values.data || !values.state || !values.port || !values.database) {
  fail('usage: node postgres-main.js --bin DIR --data DIR --state DIR --port N --database NAME -- [server args]');
}
const { bin, database } = values;
const data = resolve(values.data);
const port = Number(values.port);
const user = process.env.POSTGRES_USER;
const password = process.env.POSTGRES_PASSWORD;
// Read once: initdb takes it from a file, the server never needs it.
delete process.env.POSTGRES_PASSWORD;
if (!user || !password) fail('POSTGRES_USER and POSTGRES_PASSWORD must hold the user and its password (the controller sets them from spec.credentials)');

const pgdata = join(data, 'pgdata');
const sockets = join(data, 'sockets');
/** Written once the cluster has its user, password and database: a folder without it is started over. */
const initialised = join(data, 'initialised');

interface Owner {
  name: string;
  uid: number;
  gid: number;
}

/**
 * Who the server runs as. PostgreSQL refuses to run as root (a server bug must
 * not own the host), so as root it runs as the `postgres` user Debian's package
 * creates, with the data folder given to that user. Otherwise it runs as
 * whoever runs the controller, like every other launch.
 */
function serverOwner(): Owner | undefined {
  if (process.getuid?.() !== 0) return undefined;
  let entry: string;
  try {
    entry = execFileSync('getent', ['passwd', 'postgres'], { encoding: 'utf8' });
  } catch {
    fail("PostgreSQL refuses to run as root, and this host has no 'postgres' user to run it as: create one (useradd --system --user-group postgres), or run the controller as an ordinary user");
  }
  const [name, , uid, gid] = entry.trim().split(':');
  return { name, uid: Number(uid), gid: Number(gid) };
}

function searchable(dir: string, owner: Owner): boolean {
  const st = statSync(dir);
  if (st.uid === owner.uid) return (st.mode & 0o100) !== 0;
  if (st.gid === owner.gid) return (st.mode & 0o010) !== 0;
  return (st.mode & 0o001) !== 0;
}

/**
 * The server's user must reach its data folder. The state folder is the
 * controller's (umask 027: no access for others), so each folder from it down
 * to the data folder gets search permission for others: a path can be
 * followed, nothing can be listed, and every file keeps its own mode. Folders
 * above the state folder are the user's: they are only checked.
 */
function giveDataFolder(owner: Owner, state: string): void {
  chownSync(data, owner.uid, owner.gid);
  chmodSync(data, 0o700);
  const top = resolve(state);
  for (let dir = dirname(data); ; dir = dirname(dir)) {
    if (!searchable(dir, owner)) {
      const inState = !relative(top, dir).startsWith('..');
      if (!inState) {
        fail(
          `PostgreSQL refuses to run as root, so it runs as the ${owner.name} user, who cannot reach ${dir} (mode ${(statSync(dir).mode & 0o777).toString(8)}): let others search it (chmod o+x), or put the state folder (--state) where ${owner.name} can reach it, or run the controller as an ordinary user`,
        );
      }
      chmodSync(dir, statSync(dir).mode | 0o001);
    }
    if (dir === dirname(dir)) break;
  }
}

/** Options that make a child run as the server's user, with the controller's environment minus the password. */
const as = (owner: Owner | undefined) => ({ ...(owner ? { uid: owner.uid, gid: owner.gid } : {}), env: { ...process.env, PGDATA: pgdata }, cwd: data });

function exited(child: ChildProcess): Promise<number> {
  return new Promise((res) => {
    if (child.exitCode !== null) return res(child.exitCode);
    child.once('exit', (code, signal) => res(code ?? (signal ? 128 : 1)));
  });
}

async function run(argv: string[], owner: Owner | undefined, what: string): Promise<void> {
  const child = spawn(argv[0], argv.slice(1), { ...as(owner), stdio: ['ignore', 'inherit', 'inherit'] });
  const code = await exited(child);
  if (code !== 0) fail(`${what} failed (exit ${code}); its output is above`);
}

function startServer(owner: Owner | undefined, listen: string, extra: string[] = []): ChildProcess {
  return spawn(join(bin, 'postgres'), ['-D', pgdata, '-p', String(port), '-c', `listen_addresses=${listen}`, '-c', `unix_socket_directories=${sockets}`, ...extra], {
    ...as(owner),
    stdio: ['ignore', 'inherit', 'inherit'],
  });
}

async function connectWhileUp(server: ChildProcess): Promise<PgClient> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const client = new Client({ host: sockets, port, user, password, database: 'postgres' });
    try {
      await client.connect();
      return client;
    } catch (e) {
      await client.end().catch(() => undefined);
      if (server.exitCode !== null || server.signalCode !== null) fail('the server ended while it was being set up; its output is above');
      if (Date.now() > deadline) fail(`the server did not accept connections on its socket within 120s: ${(e as Error).message}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

/**
 * initdb with the user and its password, then a server on the socket only (no
 * TCP yet, so nothing outside sees a half-made cluster) to create the
 * database, as the postgres image's entrypoint does.
 */
async function initialise(owner: Owner | undefined): Promise<void> {
  rmSync(pgdata, { recursive: true, force: true });
  mkdirSync(sockets, { recursive: true, mode: 0o700 });
  if (owner) chownSync(sockets, owner.uid, owner.gid);
  // initdb reads the password from a file (never its command line): one only the server's user can read, gone right after.
  const pwfile = join(data, 'initdb-password');
  writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
  try {
    if (owner) chownSync(pwfile, owner.uid, owner.gid);
    await run([join(bin, 'initdb'), '-D', pgdata, '-U', user!, `--pwfile=${pwfile}`, '--auth=scram-sha-256', '--encoding=UTF8', '--no-locale'], owner, 'initdb');
  } finally {
    rmSync(pwfile, { force: true });
  }
  const server = startServer(owner, '');
  const client = await connectWhileUp(server);
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (!rowCount) await client.query(`CREATE DATABASE ${client.escapeIdentifier(database)}`);
  } finally {
    await client.end();
  }
  server.kill('SIGINT');
  await exited(server);
  writeFileSync(initialised, `${new Date().toISOString()}\n`);
  log(`initialised ${pgdata}: user "${user}", database "${database}"`);
}

async function main(): Promise<void> {
  const socketPath = join(sockets, `.s.PGSQL.${port}`);
  if (Buffer.byteLength(socketPath) > MAX_SOCKET_PATH) {
    fail(`its socket ${socketPath} would be ${Buffer.byteLength(socketPath)} bytes, over the ${MAX_SOCKET_PATH} a Unix socket path may have: give the controller a shorter state folder (--state)`);
  }
  const owner = serverOwner();
  mkdirSync(data, { recursive: true, mode: 0o700 });
  if (owner) giveDataFolder(owner, values.state!);
  if (!existsSync(initialised)) await initialise(owner);

  const server = startServer(owner, '127.0.0.1', serverArgs);
  log(`serving database "${database}" at 127.0.0.1:${port} for user "${user}"${owner ? ` (server runs as ${owner.name})` : ''}; data in ${pgdata}`);
  // The executor signals the whole process group; a signal to this process alone still
  // reaches the server, as a fast shutdown (sessions ended, data flushed).
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => server.kill('SIGINT'));
  process.exit(await exited(server));
}

main().catch((e: Error) => fail(e.message));
