// Starts real controller processes on a temp workspace and reads what they
// expose, for the end-to-end tests. Nothing here is faked.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

export const ROOT = resolve(import.meta.dirname, '../..');
export const CLI = join(ROOT, 'dist/controller/cli/main.js');

export interface Workspace {
  dir: string;
  resources: string;
  state: string;
  reports: string;
}

export function workspace(): Workspace {
  const dir = mkdtempSync(join(tmpdir(), 'aifb-e2e-'));
  // Like a project folder on a shared filesystem: services running as their own user can reach it.
  chmodSync(dir, 0o755);
  const ws = { dir, resources: join(dir, 'resources'), state: join(dir, '.aifb'), reports: join(dir, 'reports') };
  mkdirSync(ws.resources);
  return ws;
}

export async function until<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, timeoutMs = 60_000, everyMs = 200): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < end) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v as T;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
}

export interface ControllerProcess {
  child: ChildProcess;
  url: string;
  logs(): string;
}

export async function startController(ws: Workspace, extra: string[] = [], env: Record<string, string> = {}): Promise<ControllerProcess> {
  let logs = '';
  const child = spawn(process.execPath, [CLI, '--resources', ws.resources, '--state', ws.state, 'controller', 'run', '--port', '0', '--reports', ws.reports, '--resync', '10m', ...extra], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  child.stdout!.on('data', (d) => (logs += d));
  child.stderr!.on('data', (d) => (logs += d));
  const controllerFile = join(ws.state, 'controller.json');
  const url = await until('the controller to publish its API', () => {
    if (child.exitCode !== null) throw new Error(`controller exited: ${logs}`);
    if (!existsSync(controllerFile)) return undefined;
    const parsed = JSON.parse(readFileSync(controllerFile, 'utf8')) as { url: string; pid: number };
    return parsed.pid === child.pid ? parsed.url : undefined;
  }, 30_000);
  return { child, url, logs: () => logs };
}

export async function stopProcess(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill(signal);
  await exited;
}

export async function api<T = any>(url: string, path: string, token?: string): Promise<{ status: number; body: T }> {
  const res = await fetch(`${url}${path}`, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  return { status: res.status, body: (await res.json()) as T };
}

export async function aifbctl(ws: Workspace, args: string[], extraEnv: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [CLI, '--resources', ws.resources, '--state', ws.state, ...args], {
      env: { ...process.env, ...extraEnv },
    });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** Ends whatever the local executor launched in this workspace (process groups), so a failed test leaves nothing behind. */
export function killLaunches(ws: Workspace): void {
  const procs = join(ws.state, 'procs');
  if (!existsSync(procs)) return;
  for (const f of readdirSync(procs).filter((f) => f.endsWith('.json') && !f.endsWith('.exit.json'))) {
    const { pids = [] } = JSON.parse(readFileSync(join(procs, f), 'utf8')) as { pids?: number[] };
    for (const pid of pids) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
  }
}
