// A real PostgreSQL for tests and `npm run bench -- postgresql`: Debian's
// binaries, initdb into a temp folder, password (SCRAM) auth over TCP, run as
// the `postgres` OS user when we are root (PostgreSQL refuses root), as the
// stand-in apptainer (test/fakes/apptainer) runs it.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { chmod, chown, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { loadPg, type PgClient } from '../../../../clients/postgresql/pg.js';

const run = promisify(execFile);

export interface PgServer {
  host: string;
  port: number;
  /** The superuser, with password auth over TCP. */
  user: string;
  password: string;
  bin: string;
  dir: string;
  /** Runs SQL as the superuser on a connection of its own; rows as arrays. */
  sql(text: string, values?: unknown[], database?: string): Promise<unknown[][]>;
  /** What the server has written to its log (stderr) so far. */
  log(): string;
  stop(): Promise<void>;
}

/** The newest installed PostgreSQL's bin folder, as the stand-in apptainer picks it. */
export function pgBin(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'postgres'))) : [];
  versions.sort((a, b) => Number(b) - Number(a));
  if (versions.length === 0) throw new Error('PostgreSQL is not installed: apt-get install postgresql (the tests run its binaries)');
  return join(root, versions[0], 'bin');
}

/** setpriv execs without forking, so the child's pid is the server's own. */
const asPostgres = (argv: string[]): string[] => (process.getuid?.() === 0 ? ['setpriv', '--reuid=postgres', '--regid=postgres', '--init-groups', '--', ...argv] : argv);

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export interface StartOptions {
  /** Extra server settings (`-c name=value`). */
  settings?: Record<string, string>;
}

export async function startPostgres(opts: StartOptions = {}): Promise<PgServer> {
  const bin = pgBin();
  const dir = await mkdtemp(join(tmpdir(), 'aifb-pg-test-'));
  const password = `pw-${process.pid}-${Date.now()}`;
  const user = 'postgres';
  const root = process.getuid?.() === 0;
  const pwfile = join(dir, 'pwfile');
  await writeFile(pwfile, `${password}\n`, { mode: 0o600 });
  if (root) {
    await chown(dir, uid('postgres'), gid('postgres'));
    await chown(pwfile, uid('postgres'), gid('postgres'));
  }
  await chmod(dir, 0o700);
  const data = join(dir, 'data');
  const [cmd, ...args] = asPostgres([join(bin, 'initdb'), '-D', data, '-U', user, `--pwfile=${pwfile}`, '--auth-local=trust', '--auth-host=scram-sha-256', '-E', 'UTF8', '--no-sync']);
  await run(cmd, args, { cwd: dir });

  let child: ChildProcess | undefined;
  let port = 0;
  let log = '';
  // Another process may take the free port between our probe and the server's bind: try again.
  for (let attempt = 0; attempt < 3 && !child; attempt++) {
    port = await freePort();
    const settings = Object.entries({ listen_addresses: '127.0.0.1', unix_socket_directories: dir, fsync: 'off', ...opts.settings }).flatMap(([k, v]) => ['-c', `${k}=${v}`]);
    const [c, ...a] = asPostgres([join(bin, 'postgres'), '-D', data, '-p', String(port), ...settings]);
    const p = spawn(c, a, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
    log = '';
    p.stderr!.on('data', (d) => (log += d));
    if (await ready(bin, port, p)) child = p;
  }
  if (!child) {
    await rm(dir, { recursive: true, force: true });
    throw new Error(`PostgreSQL did not start: ${log}`);
  }
  const server = child;

  const sql = async (text: string, values?: unknown[], database = 'postgres') => {
    const { Client } = await loadPg();
    const c: PgClient = new Client({ host: '127.0.0.1', port, user, password, database, connectionTimeoutMillis: 10_000, statement_timeout: 0, application_name: 'aifb-test' });
    await c.connect();
    try {
      return (await c.query({ text, values, rowMode: 'array' })).rows;
    } finally {
      await c.end();
    }
  };

  return {
    host: '127.0.0.1',
    port,
    user,
    password,
    bin,
    dir,
    sql,
    log: () => log,
    stop: async () => {
      if (server.exitCode === null && server.signalCode === null) {
        const exited = new Promise((r) => server.once('exit', r));
        server.kill('SIGINT'); // fast shutdown: ends the sessions tests left open
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function ready(bin: string, port: number, p: ChildProcess): Promise<boolean> {
  const exited = new Promise<false>((r) => p.once('exit', () => r(false)));
  for (let i = 0; i < 100; i++) {
    const ok = await run(join(bin, 'pg_isready'), ['-h', '127.0.0.1', '-p', String(port), '-t', '1']).then(
      () => true,
      () => false,
    );
    if (ok) return true;
    if (await Promise.race([exited, new Promise((r) => setTimeout(() => r(true), 100))]) === false) return false;
  }
  p.kill('SIGKILL');
  return false;
}

/** The id of a user (/etc/passwd) or group (/etc/group): name:x:id:... */
function idOf(name: string, file: '/etc/passwd' | '/etc/group'): number {
  const line = readFileSync(file, 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${name}:`));
  if (!line) throw new Error(`no ${name} entry in ${file}: apt-get install postgresql creates the postgres user`);
  return Number(line.split(':')[2]);
}
const uid = (name: string) => idOf(name, '/etc/passwd');
const gid = (name: string) => idOf(name, '/etc/group');
