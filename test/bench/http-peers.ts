// Benchmark (not a test): closed-loop HTTP throughput of aifb's http workload
// against autocannon (npm) and wrk (Debian) with the same connection count,
// against one minimal Node server in its own process on loopback answering a
// small JSON body (issue 13, row 1). Runs are interleaved (aifb, autocannon,
// wrk, then again, ...) and each tool's median is compared, so whatever else
// the machine does falls on all alike. aifb runs in this process: the engine
// and the http client as a runner has them; the peers are processes of their
// own, as a user runs them.
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

export const DEFAULTS: PeerOptions = { connections: 64, seconds: 8, rounds: 3 };

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

async function aifb(port: number, o: PeerOptions): Promise<number> {
  const c = new HttpClient(HttpWorkload.parse({ type: 'http', path: '/' }), { service: { scheme: 'http', host: '127.0.0.1', port }, connections: poolSize(o.connections) });
  await c.setup();
  try {
    const r = await runLoad({ client: c, metrics: http.metrics, load: Load.parse({ mode: 'closed', workers: o.connections, duration: `${o.seconds}s`, warmup: '1s' }), ranks: 1, rank: 0, clock: systemClock });
    if (r.totals.errors > 0) throw new Error(`aifb: ${r.totals.errors} errors: ${JSON.stringify(r.totals.errorsByReason)}`);
    return r.totals.requests / (r.measuredMs / 1000);
  } finally {
    await c.teardown();
  }
}

function autocannonBin(): string {
  const pkg = createRequire(import.meta.url).resolve('autocannon/package.json');
  return join(dirname(pkg), 'autocannon.js');
}

async function autocannon(port: number, o: PeerOptions): Promise<number> {
  const { stdout } = await run(process.execPath, [autocannonBin(), '--json', '-c', String(o.connections), '-d', String(o.seconds), `http://127.0.0.1:${port}/`], { maxBuffer: 64 << 20 });
  const r = JSON.parse(stdout) as { requests: { total: number }; duration: number; errors: number; non2xx: number };
  if (r.errors > 0 || r.non2xx > 0) throw new Error(`autocannon: ${r.errors} errors, ${r.non2xx} non-2xx`);
  return r.requests.total / r.duration;
}

async function wrk(port: number, o: PeerOptions): Promise<number> {
  // wrk spreads its connections over threads: two, one per core here.
  const { stdout } = await run('wrk', ['-t', String(Math.min(2, o.connections)), '-c', String(o.connections), '-d', `${o.seconds}s`, `http://127.0.0.1:${port}/`]);
  const m = /Requests\/sec:\s+([\d.]+)/.exec(stdout);
  if (!m) throw new Error(`wrk printed no Requests/sec: ${stdout}`);
  if (/Non-2xx|Socket errors/.test(stdout)) throw new Error(`wrk saw errors: ${stdout}`);
  return Number(m[1]);
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

/** Each tool's requests/s per round, and the ratios of the medians. */
export async function measurePeers(o: PeerOptions = DEFAULTS): Promise<{ rps: Record<Tool, number[]>; ratios: { autocannon: number; wrk: number } }> {
  const server = await startServer();
  try {
    const rps: Record<Tool, number[]> = { aifb: [], autocannon: [], wrk: [] };
    const tools: Record<Tool, (port: number, o: PeerOptions) => Promise<number>> = { aifb, autocannon, wrk };
    for (let round = 0; round < o.rounds; round++) {
      // A different tool goes first each round.
      const order = (['aifb', 'autocannon', 'wrk'] as Tool[]).map((_, i, a) => a[(i + round) % a.length]);
      for (const tool of order) rps[tool].push(await tools[tool](server.port, o));
    }
    return { rps, ratios: { autocannon: median(rps.aifb) / median(rps.autocannon), wrk: median(rps.aifb) / median(rps.wrk) } };
  } finally {
    server.child.kill();
  }
}

export async function main(o: PeerOptions = DEFAULTS): Promise<void> {
  const autocannonVersion = (createRequire(import.meta.url)('autocannon/package.json') as { version: string }).version;
  console.log(`http peers: closed loop, ${o.connections} connections, ${o.seconds} s a run, ${o.rounds} rounds, against one Node server process on loopback (17-byte JSON)`);
  console.log(`machine: ${cpus().length} cores, Node ${process.version}; autocannon ${autocannonVersion}, ${await version('wrk', ['--version'])}`);
  const { rps, ratios } = await measurePeers(o);
  console.log('TOOL        REQ/S (each round)            MEDIAN');
  for (const tool of Object.keys(rps) as Tool[]) console.log(`${tool.padEnd(11)} ${rps[tool].map((x) => x.toFixed(0).padStart(7)).join(' ').padEnd(29)} ${median(rps[tool]).toFixed(0).padStart(7)}`);
  console.log(`ratio aifb/autocannon: x${ratios.autocannon.toFixed(2)} (goal >= 1.00)`);
  console.log(`ratio aifb/wrk: x${ratios.wrk.toFixed(2)}`);
}
