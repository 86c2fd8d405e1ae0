// Benchmark (not a test): closed-loop HTTP throughput of aifb's http and llm
// workloads against autocannon (npm) and wrk (Debian) with the same
// connection count, against one server process on loopback (issue 13, row 1;
// the servers: bench-server.ts). Three scenarios: `http`, a GET answered with
// a small JSON body; `llm`, the llm workload's OpenAI chat request answered
// with one chat.completion document; `llm-stream`, the same request streamed,
// answered with 16 server-sent events and [DONE] in one write. The peers send
// the same request (method, path, headers, body) and get the same answer; aifb
// also parses it (usage, every event) as a run does. Runs are interleaved
// (aifb, autocannon, wrk, then again, ...) and each tool's median is compared,
// so whatever else the machine does falls on all alike. aifb runs in this
// process: the engine and the client as a runner has them; the peers are
// processes of their own, as a user runs them. The server runs on one core and
// every tool on the other (cores.ts: this machine's cores differ).
//
// The row's figures come from the raw server, which answers faster than the
// tools ask: a tool's rate is then what the tool can send, and the one that
// saturates first shows. Against Node's http server, the server limits every
// tool and their rates meet; that run is printed after, for the GET, and each
// run's server CPU says which side limited it.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import type { MetricDecl } from '../../api/metrics.js';
import { Load } from '../../api/schemas.js';
import type { BenchmarkClient } from '../../clients/client.js';
import { systemClock } from '../../clients/engine/clock.js';
import { poolSize, runLoad } from '../../clients/engine/engine.js';
import { HttpClient } from '../../clients/http/client.js';
import { http } from '../../clients/http/index.js';
import { HttpWorkload } from '../../clients/http/schema.js';
import { LLM_HEADERS, LlmClient } from '../../clients/llm/client.js';
import { llm } from '../../clients/llm/index.js';
import { openaiProtocol } from '../../clients/llm/openai.js';
import { promptsOf } from '../../clients/llm/prompts.js';
import { LlmWorkload } from '../../clients/llm/schema.js';
import { startServer, TOKENS, type ServerKind } from './bench-server.js';
import { benchCores, coresWords, onCore, withThisProcessOn, type Cores } from './cores.js';
import { liveProcessCpuSeconds } from './proc.js';

const run = promisify(execFile);

export interface PeerOptions {
  connections: number;
  seconds: number;
  /** Runs per tool; the median is compared. */
  rounds: number;
}

export const DEFAULTS: PeerOptions = { connections: 64, seconds: 8, rounds: 5 };

type Tool = 'aifb' | 'autocannon' | 'wrk';

export type Scenario = 'http' | 'llm' | 'llm-stream';
export const SCENARIOS: readonly Scenario[] = ['http', 'llm', 'llm-stream'];

/** What every tool sends in a scenario, and how aifb sends it. */
interface Target {
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  body?: string;
  client(port: number, connections: number): BenchmarkClient;
  metrics: readonly MetricDecl[];
}

const service = (port: number) => ({ scheme: 'http' as const, host: '127.0.0.1', port });

function targetOf(scenario: Scenario): Target {
  if (scenario === 'http') {
    return { method: 'GET', path: '/', headers: {}, client: (port, connections) => new HttpClient(HttpWorkload.parse({ type: 'http', path: '/' }), { service: service(port), connections }), metrics: http.metrics };
  }
  const w = LlmWorkload.parse({ type: 'llm', protocol: 'openai', model: 'bench', maxTokens: TOKENS, stream: scenario === 'llm-stream' });
  // The llm client's own request, headers and body, sent by the peers too.
  const req = openaiProtocol(w, 'chat').request(promptsOf(w)[0], w.model);
  return {
    method: 'POST',
    path: req.path,
    headers: LLM_HEADERS,
    body: req.body.toString(),
    client: (port, connections) => new LlmClient(w, { service: service(port), connections }),
    metrics: llm.metrics,
  };
}

/** One run of a tool: its requests/s and the CPU it spent per request, µs. */
interface Run {
  rps: number;
  cpuUs: number;
}

/** Where a tool runs: the server's port, and the core every tool is pinned to (undefined: not pinned). */
interface Place {
  port: number;
  core: number | undefined;
}

const aifb = (at: Place, o: PeerOptions, t: Target): Promise<Run> => withThisProcessOn(at.core, () => aifbRun(at.port, o, t));

async function aifbRun(port: number, o: PeerOptions, t: Target): Promise<Run> {
  const c = t.client(port, poolSize(o.connections));
  await c.setup();
  // Every request, warm-up included, against the CPU of the whole run.
  let sent = 0;
  const execute = c.execute.bind(c);
  c.execute = (op) => (sent++, execute(op));
  const cpu = process.cpuUsage();
  try {
    const r = await runLoad({ client: c, metrics: t.metrics, load: Load.parse({ mode: 'closed', workers: o.connections, duration: `${o.seconds}s`, warmup: '1s' }), ranks: 1, rank: 0, clock: systemClock });
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

async function autocannon(at: Place, o: PeerOptions, t: Target): Promise<Run> {
  const request = ['-m', t.method, ...Object.entries(t.headers).flatMap(([k, v]) => ['-H', `${k}=${v}`]), ...(t.body !== undefined ? ['-b', t.body] : [])];
  const { stdout, cpuS } = await timed(...onCore(at.core, process.execPath, [autocannonBin(), '--json', '-c', String(o.connections), '-d', String(o.seconds), ...request, `http://127.0.0.1:${at.port}${t.path}`]));
  const r = JSON.parse(stdout) as { requests: { total: number }; duration: number; errors: number; non2xx: number };
  if (r.errors > 0 || r.non2xx > 0) throw new Error(`autocannon: ${r.errors} errors, ${r.non2xx} non-2xx`);
  return { rps: r.requests.total / r.duration, cpuUs: (cpuS * 1e6) / r.requests.total };
}

/** wrk's request as a Lua script (its only way to send a method, headers and a body); the body in a long bracket, taken as is. */
function wrkScript(t: Target): string {
  const lines = [`wrk.method = "${t.method}"`, ...Object.entries(t.headers).map(([k, v]) => `wrk.headers["${k}"] = "${v}"`)];
  if (t.body !== undefined) lines.push(`wrk.body = [==[${t.body}]==]`);
  return `${lines.join('\n')}\n`;
}

async function wrk(at: Place, o: PeerOptions, t: Target): Promise<Run> {
  const dir = mkdtempSync(join(tmpdir(), 'aifb-wrk-'));
  const script = join(dir, 'request.lua');
  writeFileSync(script, wrkScript(t));
  // wrk spreads its connections over threads, one per core it has: one when pinned, else two (this machine's cores).
  const threads = at.core !== undefined ? 1 : Math.min(2, o.connections);
  const { stdout, cpuS } = await timed(
    ...onCore(at.core, 'wrk', ['-t', String(threads), '-c', String(o.connections), '-d', `${o.seconds}s`, '-s', script, `http://127.0.0.1:${at.port}${t.path}`]),
  ).finally(() => rmSync(dir, { recursive: true, force: true }));
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

export interface PeerResult {
  /** Each tool's requests/s and CPU µs per request, one per round. */
  rps: Record<Tool, number[]>;
  cpuUs: Record<Tool, number[]>;
  /** The server's CPU over each run, % of its one core: near 100, the server limited that run; well below, the tool did. */
  serverPct: Record<Tool, number[]>;
  /** aifb's median over each peer's. */
  ratios: Ratios;
  cpuRatios: Ratios;
}

/** Each scenario, each tool, `rounds` times, against one server of this kind; the ratios of the medians. */
export async function measurePeers(
  o: PeerOptions = DEFAULTS,
  scenarios: readonly Scenario[] = SCENARIOS,
  cores: Cores | undefined = benchCores(),
  kind: ServerKind = 'raw',
): Promise<Partial<Record<Scenario, PeerResult>>> {
  const server = await startServer(cores?.server, kind);
  try {
    const out: Partial<Record<Scenario, PeerResult>> = {};
    for (const scenario of scenarios) out[scenario] = await measureScenario({ port: server.port, core: cores?.client }, server.child.pid!, o, targetOf(scenario));
    return out;
  } finally {
    server.child.kill();
  }
}

async function measureScenario(at: Place, serverPid: number, o: PeerOptions, t: Target): Promise<PeerResult> {
  const rps: Record<Tool, number[]> = { aifb: [], autocannon: [], wrk: [] };
  const cpuUs: Record<Tool, number[]> = { aifb: [], autocannon: [], wrk: [] };
  const serverPct: Record<Tool, number[]> = { aifb: [], autocannon: [], wrk: [] };
  const tools: Record<Tool, (at: Place, o: PeerOptions, t: Target) => Promise<Run>> = { aifb, autocannon, wrk };
  const serverCpu = () => liveProcessCpuSeconds(serverPid, 'the bench server');
  for (let round = 0; round < o.rounds; round++) {
    // A different tool goes first each round.
    const order = (['aifb', 'autocannon', 'wrk'] as Tool[]).map((_, i, a) => a[(i + round) % a.length]);
    for (const tool of order) {
      const [cpu0, t0] = [serverCpu(), performance.now()];
      const r = await tools[tool](at, o, t);
      // Over the whole call, the tool's start and aifb's warm-up second included: a share a little under the load's own.
      serverPct[tool].push(((serverCpu() - cpu0) / ((performance.now() - t0) / 1000)) * 100);
      rps[tool].push(r.rps);
      cpuUs[tool].push(r.cpuUs);
    }
  }
  const ratio = (xs: Record<Tool, number[]>, peer: Tool) => median(xs.aifb) / median(xs[peer]);
  return {
    rps,
    cpuUs,
    serverPct,
    ratios: { autocannon: ratio(rps, 'autocannon'), wrk: ratio(rps, 'wrk') },
    cpuRatios: { autocannon: ratio(cpuUs, 'autocannon'), wrk: ratio(cpuUs, 'wrk') },
  };
}

const SCENARIO_WORDS: Record<Scenario, string> = {
  http: 'http: GET /, 17-byte JSON answer',
  llm: `llm: POST /v1/chat/completions, one chat.completion document (${TOKENS} tokens)`,
  'llm-stream': `llm-stream: the same POST with stream: true, ${TOKENS} server-sent events and [DONE] in one write`,
};

const SERVER_WORDS: Record<ServerKind, string> = {
  raw: 'server: raw (a net server writing canned answers; it answers faster than the tools ask, so the tool that saturates first shows)',
  'node-http': "server: node-http (Node's http module; it saturates before the tools, so every tool's rate is the server's)",
};

function printScenario(scenario: Scenario, r: PeerResult, rounds: number, tag = ''): void {
  const cells = (xs: number[], d: number) => xs.map((x) => x.toFixed(d).padStart(7)).join(' ');
  const w = 8 * rounds;
  console.log('');
  console.log(SCENARIO_WORDS[scenario] + tag);
  console.log(`${'TOOL'.padEnd(11)} ${'REQ/S (each round)'.padEnd(w)} ${'MEDIAN'.padStart(7)}   ${'CPU_US/REQ (each round)'.padEnd(w)} ${'MEDIAN'.padStart(7)}   SERVER_CPU_%`);
  for (const tool of Object.keys(r.rps) as Tool[]) {
    console.log(
      `${tool.padEnd(11)} ${cells(r.rps[tool], 0).padEnd(w)} ${median(r.rps[tool]).toFixed(0).padStart(7)}   ${cells(r.cpuUs[tool], 1).padEnd(w)} ${median(r.cpuUs[tool]).toFixed(1).padStart(7)}   ${median(r.serverPct[tool]).toFixed(0).padStart(12)}`,
    );
  }
  console.log(`ratio aifb/autocannon (${scenario}${tag}): requests/s x${r.ratios.autocannon.toFixed(2)} (goal >= 1.00), CPU per request x${r.cpuRatios.autocannon.toFixed(2)} (below 1 = cheaper)`);
  console.log(`ratio aifb/wrk (${scenario}${tag}): requests/s x${r.ratios.wrk.toFixed(2)}, CPU per request x${r.cpuRatios.wrk.toFixed(2)}`);
}

export async function main(o: PeerOptions = DEFAULTS): Promise<void> {
  const autocannonVersion = (createRequire(import.meta.url)('autocannon/package.json') as { version: string }).version;
  console.log(`http peers: closed loop, ${o.connections} connections, ${o.seconds} s a run, ${o.rounds} rounds, against one server process on loopback`);
  console.log(`machine: ${cpus().length} cores, Node ${process.version}; autocannon ${autocannonVersion}, ${await version('wrk', ['--version'])}`);
  const cores = benchCores();
  console.log(`cores: ${coresWords(cores)}`);
  console.log('SERVER_CPU_%: the server\'s CPU over a run (the tool\'s start and aifb\'s warm-up second included), median: near 100, the server limited the run; below, the tool did');
  console.log(SERVER_WORDS.raw);
  const raw = await measurePeers(o, SCENARIOS, cores, 'raw');
  for (const scenario of SCENARIOS) printScenario(scenario, raw[scenario]!, o.rounds);
  console.log('');
  console.log(SERVER_WORDS['node-http']);
  const nodeHttp = await measurePeers(o, ['http'], cores, 'node-http');
  printScenario('http', nodeHttp.http!, o.rounds, ', node-http server');
}
