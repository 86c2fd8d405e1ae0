// Benchmark (not a test): closed-loop HTTP throughput of aifb's http workload
// against autocannon (npm) and wrk (Debian) with the same connection count,
// against one minimal Node server in its own process on loopback answering a
// small JSON body (issue 13, row 1). Runs are interleaved (aifb, autocannon,
// wrk, then again, ...) and each tool's median is compared, so whatever else
// the machine does falls on all alike. aifb runs in this process: the engine
// and the http client as a runner has them; the peers are processes of their
// own, as a user runs them. When the server is what limits every tool, their
// requests/s meet; the CPU each tool spends per request (aifb: this process's;
// a peer: its own, from bash's `times`) still tells them apart.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { Load } from '../../api/schemas.js';
import { systemClock } from '../../clients/engine/clock.js';
import { poolSize, runLoad } from '../../clients/engine/engine.js';
import { HttpClient } from '../../clients/http/client.js';
import { http } from '../../clients/http/index.js';
import { HttpWorkload } from '../../clients/http/schema.js';

const run = promisify(execFile);

export interface PeerOptions {
  connections: number;
  seconds: number;
  /** Runs per tool; the median is compared. */
  rounds: number;
}

export const DEFAULTS: PeerOptions = { connections: 64, seconds: 8, rounds: 5 };

/** The server: one process, one core, a 17-byte JSON answer with keep-alive. */
const SERVER = `
const http = require('node:http');
const body = Buffer.from('{"ok":true,"n":1}');
const s = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => { res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length }); res.end(body); });
});
s.keepAliveTimeout = 60000;
s.listen(0, '127.0.0.1', () => console.log('port ' + s.address().port));
`;

/** The bench's server in a process of its own; kill `child` when done. */
export async function startServer(): Promise<{ port: number; child: ChildProcess }> {
  const child = spawn(process.execPath, ['-e', SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /port (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`the bench server exited (code ${code}) before listening`)));
  });
  return { port, child };
}

type Tool = 'aifb' | 'autocannon' | 'wrk';

/** One run of a tool: its requests/s and the CPU it spent per request, µs. */
interface Run {
  rps: number;
  cpuUs: number;
}

async function aifb(port: number, o: PeerOptions): Promise<Run> {
  const c = new HttpClient(HttpWorkload.parse({ type: 'http', path: '/' }), { service: { scheme: 'http', host: '127.0.0.1', port }, connections: poolSize(o.connections) });
  await c.setup();
  // Every request, warm-up included, against the CPU of the whole run.
  let sent = 0;
  const execute = c.execute.bind(c);
  c.execute = (op) => (sent++, execute(op));
  const cpu = process.cpuUsage();
  try {
    const r = await runLoad({ client: c, metrics: http.metrics, load: Load.parse({ mode: 'closed', workers: o.connections, duration: `${o.seconds}s`, warmup: '1s' }), ranks: 1, rank: 0, clock: systemClock });
    const used = process.cpuUsage(cpu);
    if (r.totals.errors > 0) throw new Error(`aifb: ${r.totals.errors} errors: ${JSON.stringify(r.totals.errorsByReason)}`);
    return { rps: r.totals.requests / (r.measuredMs / 1000), cpuUs: (used.user + used.system) / sent };
  } finally {
    await c.teardown();
  }
}

/** Runs a command under bash and returns its stdout and the CPU seconds it used (bash's `times`, children's line). */
async function timed(cmd: string, args: string[]): Promise<{ stdout: string; cpuS: number }> {
  const { stdout } = await run('bash', ['-c', '"$@"; times', 'bash', cmd, ...args], { maxBuffer: 64 << 20 });
  const lines = stdout.trimEnd().split('\n');
  const m = /^(\d+)m([\d.]+)s (\d+)m([\d.]+)s$/.exec(lines.at(-1) ?? '');
  if (!m) throw new Error(`no CPU times after ${cmd}: ${lines.at(-1)}`);
  return { stdout: lines.slice(0, -2).join('\n'), cpuS: Number(m[1]) * 60 + Number(m[2]) + Number(m[3]) * 60 + Number(m[4]) };
}

function autocannonBin(): string {
  const pkg = createRequire(import.meta.url).resolve('autocannon/package.json');
  return join(dirname(pkg), 'autocannon.js');
}

async function autocannon(port: number, o: PeerOptions): Promise<Run> {
  const { stdout, cpuS } = await timed(process.execPath, [autocannonBin(), '--json', '-c', String(o.connections), '-d', String(o.seconds), `http://127.0.0.1:${port}/`]);
  const r = JSON.parse(stdout) as { requests: { total: number }; duration: number; errors: number; non2xx: number };
  if (r.errors > 0 || r.non2xx > 0) throw new Error(`autocannon: ${r.errors} errors, ${r.non2xx} non-2xx`);
  return { rps: r.requests.total / r.duration, cpuUs: (cpuS * 1e6) / r.requests.total };
}

async function wrk(port: number, o: PeerOptions): Promise<Run> {
  // wrk spreads its connections over threads: two, one per core here.
  const { stdout, cpuS } = await timed('wrk', ['-t', String(Math.min(2, o.connections)), '-c', String(o.connections), '-d', `${o.seconds}s`, `http://127.0.0.1:${port}/`]);
  const m = /Requests\/sec:\s+([\d.]+)/.exec(stdout);
  const n = /(\d+) requests in/.exec(stdout);
  if (!m || !n) throw new Error(`wrk printed no Requests/sec: ${stdout}`);
  if (/Non-2xx|Socket errors/.test(stdout)) throw new Error(`wrk saw errors: ${stdout}`);
  return { rps: Number(m[1]), cpuUs: (cpuS * 1e6) / Number(n[1]) };
}

async function version(cmd: string, args: string[]): Promise<string> {
  try {
    const { stdout, stderr } = await run(cmd, args);
    return (stdout || stderr).split('\n')[0].trim();
  } catch (e) {
    return ((e as { stdout?: string; stderr?: string }).stdout || (e as { stderr?: string }).stderr || String(e)).split('\n')[0].trim();
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

type Ratios = { autocannon: number; wrk: number };

/** Each tool's requests/s and CPU µs per request per round, and the ratios of the medians. */
export async function measurePeers(o: PeerOptions = DEFAULTS): Promise<{ rps: Record<Tool, number[]>; cpuUs: Record<Tool, number[]>; ratios: Ratios; cpuRatios: Ratios }> {
  const server = await startServer();
  try {
    const rps: Record<Tool, number[]> = { aifb: [], autocannon: [], wrk: [] };
    const cpuUs: Record<Tool, number[]> = { aifb: [], autocannon: [], wrk: [] };
    const tools: Record<Tool, (port: number, o: PeerOptions) => Promise<Run>> = { aifb, autocannon, wrk };
    for (let round = 0; round < o.rounds; round++) {
      // A different tool goes first each round.
      const order = (['aifb', 'autocannon', 'wrk'] as Tool[]).map((_, i, a) => a[(i + round) % a.length]);
      for (const tool of order) {
        const r = await tools[tool](server.port, o);
        rps[tool].push(r.rps);
        cpuUs[tool].push(r.cpuUs);
      }
    }
    const ratio = (xs: Record<Tool, number[]>, peer: Tool) => median(xs.aifb) / median(xs[peer]);
    return {
      rps,
      cpuUs,
      ratios: { autocannon: ratio(rps, 'autocannon'), wrk: ratio(rps, 'wrk') },
      cpuRatios: { autocannon: ratio(cpuUs, 'autocannon'), wrk: ratio(cpuUs, 'wrk') },
    };
  } finally {
    server.child.kill();
  }
}

export async function main(o: PeerOptions = DEFAULTS): Promise<void> {
  const autocannonVersion = (createRequire(import.meta.url)('autocannon/package.json') as { version: string }).version;
  console.log(`http peers: closed loop, ${o.connections} connections, ${o.seconds} s a run, ${o.rounds} rounds, against one Node server process on loopback (17-byte JSON)`);
  console.log(`machine: ${cpus().length} cores, Node ${process.version}; autocannon ${autocannonVersion}, ${await version('wrk', ['--version'])}`);
  const { rps, cpuUs, ratios, cpuRatios } = await measurePeers(o);
  const cells = (xs: number[], d: number) => xs.map((x) => x.toFixed(d).padStart(7)).join(' ');
  const w = 8 * o.rounds;
  console.log(`${'TOOL'.padEnd(11)} ${'REQ/S (each round)'.padEnd(w)} ${'MEDIAN'.padStart(7)}   ${'CPU_US/REQ (each round)'.padEnd(w)} ${'MEDIAN'.padStart(7)}`);
  for (const tool of Object.keys(rps) as Tool[]) {
    console.log(`${tool.padEnd(11)} ${cells(rps[tool], 0).padEnd(w)} ${median(rps[tool]).toFixed(0).padStart(7)}   ${cells(cpuUs[tool], 1).padEnd(w)} ${median(cpuUs[tool]).toFixed(1).padStart(7)}`);
  }
  console.log(`ratio aifb/autocannon: requests/s x${ratios.autocannon.toFixed(2)} (goal >= 1.00), CPU per request x${cpuRatios.autocannon.toFixed(2)} (below 1 = cheaper)`);
  console.log(`ratio aifb/wrk: requests/s x${ratios.wrk.toFixed(2)}, CPU per request x${cpuRatios.wrk.toFixed(2)}`);
}
