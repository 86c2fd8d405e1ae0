// Benchmark (not a test): the controller at scale (issue 13, row 5). A real
// controller process (local executor, `aifbctl controller run` with its
// defaults) on an empty folder; N Service files dropped at once, each with an
// `endpoint:` at an HTTP server this process runs, so nothing is launched per
// service and what is measured is the controller's own work. Each service has
// an address of its own (127.0.x.y: all of 127/8 is loopback on Linux), as on
// a cluster, so no probe rides on another service's connection. Then, with every
// service Ready and nothing changing, its CPU, RSS and the status API's list
// latency. Two sizes, so the larger is read against the smaller: the peer of a
// controller at 1,000 is the same controller at 200.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { readFile, rename } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { liveProcessCpuSeconds } from './proc.js';

const ROOT = resolve(import.meta.dirname, '../..');
// Run from dist/test/bench (npm run bench) or from the source tree (vitest): the CLI is always the built one.
// AIFB_BENCH_CLI: another build's CLI, to set a change against the code before it on the same machine.
const CLI = process.env.AIFB_BENCH_CLI ?? join(ROOT.endsWith('/dist') ? ROOT : join(ROOT, 'dist'), 'controller/cli/main.js');

export interface ScaleOptions {
  sizes: number[];
  /**
   * How long the idle controller is watched. 30 s by default: one resync
   * (--resync 30s) and one Ready-service probe round (watchInterval 30s), so
   * every periodic cost falls into the window once.
   */
  idleSeconds: number;
  /** Sequential GET /api/v1/services once idle, for the list latency percentiles. */
  listRequests: number;
  /** Give up waiting for Ready after this long. */
  readyTimeoutSeconds: number;
  /** Extra node flags for the controller process (e.g. --cpu-prof). */
  nodeArgs?: string[];
}

export const DEFAULTS: ScaleOptions = { sizes: [200, 1000], idleSeconds: 30, listRequests: 200, readyTimeoutSeconds: 180 };

export interface ScaleRow {
  services: number;
  /** From the last file landing in the folder until every service has a status (any phase), seconds. */
  statusS: number;
  /** ... until every service is Ready in the controller (its /metrics). */
  readyS: number;
  /** ... until every file says `phase: Ready` in its status block. */
  filesReadyS: number;
  /** The controller's CPU (user + system) from the drop until every file said Ready, seconds: steadier than the times on a shared machine. */
  cpuToReadyS: number;
  /** Controller CPU (user + system) over the idle window, % of one core. */
  idleCpuPct: number;
  idleSeconds: number;
  /** Resident memory at the end of the idle window, and its peak over the process's life, MiB. */
  rssMiB: number;
  peakRssMiB: number;
  listP50Ms: number;
  listP99Ms: number;
  listKiB: number;
  /** What the controller did while idle, counted from its /metrics and the endpoint server. */
  idle: { reconciles: number; written: number; unchanged: number; probes: number };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil(q * xs.length) - 1)];
/** utime + stime of the controller, in seconds (its own CPU, whatever else runs). */
const cpuSeconds = (pid: number): number => liveProcessCpuSeconds(pid, 'the controller process');

function memMiB(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
}

/** Sum of a Prometheus counter or gauge's series whose labels contain every given pair. */
export function metricSum(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

/** The i-th service's own loopback address: 127.0.0.1, 127.0.0.2, ... 127.0.0.128, 127.0.1.1, ... */
const addressOf = (i: number) => `127.0.${i >> 7}.${(i & 127) + 1}`;

function serviceYaml(name: string, host: string, port: number): string {
  return `apiVersion: aifb.io/v1alpha1
kind: Service
metadata:
  name: ${name}
spec:
  type: http
  endpoint:
    host: ${host}
    port: ${port}
`;
}

interface Running {
  child: ChildProcess;
  url: string;
  logs: () => string;
}

async function startController(dir: string, nodeArgs: string[]): Promise<Running> {
  let logs = '';
  const state = join(dir, '.aifb');
  // As a user starts it: defaults for --poll (1s locally) and --resync (30s).
  const child = spawn(process.execPath, [...nodeArgs, CLI, '--resources', join(dir, 'resources'), '--state', state, 'controller', 'run', '--port', '0', '--reports', join(dir, 'reports')], {
    stdio: ['ignore', 'pipe', 'pipe'],
    cwd: dir,
  });
  // Only the tail is kept: at 1,000 resources the log is long.
  const keep = (d: Buffer) => (logs = (logs + d).slice(-20_000));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const file = join(state, 'controller.json');
  const end = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the controller exited: ${logs}`);
    if (existsSync(file)) {
      const c = JSON.parse(readFileSync(file, 'utf8')) as { url: string; pid: number };
      if (c.pid === child.pid) return { child, url: c.url, logs: () => logs };
    }
    if (Date.now() > end) throw new Error(`the controller did not publish its API in 30 s: ${logs}`);
    await sleep(100);
  }
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await Promise.race([exited, sleep(30_000).then(() => child.kill('SIGKILL'))]);
  await exited;
}

async function metrics(url: string): Promise<string> {
  return (await fetch(`${url}/metrics`)).text();
}

/** Reads every file until each one's status block says Ready; the bench's reads, not the controller's. */
async function allFilesReady(files: string[]): Promise<boolean> {
  for (const f of files) if (!/\nstatus:\n(?: {2}.*\n)*? {2}phase: Ready\n/.test(await readFile(f, 'utf8'))) return false;
  return true;
}

export async function measureScale(n: number, o: ScaleOptions = DEFAULTS): Promise<ScaleRow> {
  let probes = 0;
  const server = createServer((_req, res) => {
    probes++;
    res.end('ok');
  });
  // Every address, so each service's own 127.0.x.y reaches it.
  await new Promise<void>((r) => server.listen(0, '0.0.0.0', r));
  const port = (server.address() as AddressInfo).port;
  const dir = mkdtempSync(join(tmpdir(), 'aifb-bench-scale-'));
  const resources = join(dir, 'resources');
  const staging = join(dir, 'staging');
  mkdirSync(resources);
  mkdirSync(staging);
  let ctl: Running | undefined;
  try {
    ctl = await startController(dir, o.nodeArgs ?? []);
    const pid = ctl.child.pid!;
    const names = Array.from({ length: n }, (_, i) => `svc-${String(i).padStart(5, '0')}`);
    names.forEach((name, i) => writeFileSync(join(staging, `${name}.yaml`), serviceYaml(name, addressOf(i), port)));
    // Dropped at once, as `mv staging/*.yaml resources/` would: each file arrives whole.
    const cpu0 = cpuSeconds(pid);
    await Promise.all(names.map((name) => rename(join(staging, `${name}.yaml`), join(resources, `${name}.yaml`))));
    const t0 = performance.now();
    const deadline = Date.now() + o.readyTimeoutSeconds * 1000;
    let statusS = NaN;
    let readyS = NaN;
    // /metrics is polled rather than the list: it costs the controller a count, not n views.
    while (Number.isNaN(readyS)) {
      if (Date.now() > deadline) throw new Error(`not every service was Ready after ${o.readyTimeoutSeconds} s: ${ctl.logs().slice(-2000)}`);
      if (ctl.child.exitCode !== null) throw new Error(`the controller exited: ${ctl.logs()}`);
      const text = await metrics(ctl.url);
      const all = metricSum(text, 'aifb_resources', { kind: 'Service' });
      const pending = metricSum(text, 'aifb_resources', { kind: 'Service', phase: 'Pending' });
      const ready = metricSum(text, 'aifb_resources', { kind: 'Service', phase: 'Ready' });
      const at = (performance.now() - t0) / 1000;
      if (Number.isNaN(statusS) && all === n && pending === 0) statusS = at;
      if (ready === n) readyS = at;
      else await sleep(100);
    }
    const files = names.map((name) => join(resources, `${name}.yaml`));
    while (!(await allFilesReady(files))) {
      if (Date.now() > deadline) throw new Error(`not every file said Ready after ${o.readyTimeoutSeconds} s`);
      await sleep(100);
    }
    const filesReadyS = (performance.now() - t0) / 1000;
    const cpuToReadyS = cpuSeconds(pid) - cpu0;

    // Idle: a moment for the coalesced state writes (200 ms) to land, then the window.
    await sleep(1000);
    const before = await metrics(ctl.url);
    const probesBefore = probes;
    const cpuBefore = cpuSeconds(pid);
    const idleStart = performance.now();
    await sleep(o.idleSeconds * 1000);
    const cpuAfter = cpuSeconds(pid);
    const idleS = (performance.now() - idleStart) / 1000;
    const probesIdle = probes - probesBefore;
    const mem = memMiB(pid);
    const after = await metrics(ctl.url);
    const delta = (name: string, labels: Record<string, string> = {}) => metricSum(after, name, labels) - metricSum(before, name, labels);

    // The list, one request at a time as a dashboard or `aifbctl get` asks it.
    const lat: number[] = [];
    let bytes = 0;
    for (let i = 0; i < o.listRequests; i++) {
      const began = performance.now();
      const res = await fetch(`${ctl.url}/api/v1/services`);
      const body = await res.arrayBuffer();
      lat.push(performance.now() - began);
      bytes = body.byteLength;
      if (res.status !== 200) throw new Error(`GET /api/v1/services answered ${res.status}`);
    }
    return {
      services: n,
      statusS,
      readyS,
      filesReadyS,
      cpuToReadyS,
      idleCpuPct: ((cpuAfter - cpuBefore) / idleS) * 100,
      idleSeconds: idleS,
      rssMiB: mem.rss,
      peakRssMiB: mem.peak,
      listP50Ms: quantile(lat, 0.5),
      listP99Ms: quantile(lat, 0.99),
      listKiB: bytes / 1024,
      idle: {
        reconciles: delta('aifb_reconciles_total'),
        written: delta('aifb_status_writes_total', { result: 'written' }),
        unchanged: delta('aifb_status_writes_total', { result: 'unchanged' }),
        probes: probesIdle,
      },
    };
  } finally {
    if (ctl) await stop(ctl.child);
    await new Promise((r) => server.close(r));
    server.closeAllConnections();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function measureAll(o: ScaleOptions = DEFAULTS): Promise<ScaleRow[]> {
  const rows: ScaleRow[] = [];
  for (const n of o.sizes) rows.push(await measureScale(n, o));
  return rows;
}

const f = (x: number, d: number, w: number) => x.toFixed(d).padStart(w);

export function table(rows: ScaleRow[]): string[] {
  const out = ['SERVICES  STATUS_S  READY_S  FILES_S  CPU_S  IDLE_CPU_%  RSS_MIB  PEAK_MIB  LIST_P50_MS  LIST_P99_MS  LIST_KIB  IDLE: RECONCILES  WRITES  UNCHANGED  PROBES'];
  for (const r of rows) {
    out.push(
      `${f(r.services, 0, 8)}  ${f(r.statusS, 2, 8)}  ${f(r.readyS, 2, 7)}  ${f(r.filesReadyS, 2, 7)}  ${f(r.cpuToReadyS, 2, 5)}  ${f(r.idleCpuPct, 2, 10)}  ${f(r.rssMiB, 0, 7)}  ${f(r.peakRssMiB, 0, 8)}  ${f(r.listP50Ms, 1, 11)}  ${f(r.listP99Ms, 1, 11)}  ${f(r.listKiB, 0, 8)}  ${f(r.idle.reconciles, 0, 16)}  ${f(r.idle.written, 0, 6)}  ${f(r.idle.unchanged, 0, 9)}  ${f(r.idle.probes, 0, 6)}`,
    );
  }
  if (rows.length >= 2) {
    const [a, b] = [rows[0], rows[rows.length - 1]];
    const x = (num: number, den: number) => `x${(num / den).toFixed(2)}`;
    out.push(
      `ratio ${b.services}/${a.services} (x${(b.services / a.services).toFixed(2)} = linear): time to Ready ${x(b.readyS, a.readyS)}, CPU to Ready ${x(b.cpuToReadyS, a.cpuToReadyS)}, idle CPU ${x(b.idleCpuPct, a.idleCpuPct)}, RSS ${x(b.rssMiB, a.rssMiB)}, list p99 ${x(b.listP99Ms, a.listP99Ms)}`,
    );
  }
  return out;
}

export async function main(o: ScaleOptions = DEFAULTS): Promise<void> {
  console.log(
    `controller at scale: a controller process (local executor, default --poll 1s --resync 30s); N Service files, each with endpoint: at its own loopback address (127.0.x.y) of one local HTTP server, moved into its folder at once; idle window ${o.idleSeconds} s; ${o.listRequests} sequential GET /api/v1/services`,
  );
  console.log(`machine: ${cpus().length} cores, Node ${process.version}; load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
  console.log('goals at 1,000: Ready < 10 s, idle CPU < 2% of a core, RSS < 150 MiB, list p99 < 50 ms');
  for (const line of table(await measureAll(o))) console.log(line);
}
