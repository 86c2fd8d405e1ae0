// Benchmark (not a test): what aifb's llm client costs on the runner. One
// runner process, closed loop, drives an LLM stand-in that answers at once (16
// one-token chunks, 0 ms apart, in its own process); the peer is the http
// workload POSTing the same bytes to the same endpoint, so the server's work is
// the same and the difference is the llm client's streaming and parsing. Then
// the engine's send lag in open loop at 1,000 requests/s against that stand-in.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { MetricDecl } from '../../api/metrics.js';
import { Load } from '../../api/schemas.js';
import type { BenchmarkClient, Operation, OperationMix, OperationResult } from '../../clients/client.js';
import { systemClock } from '../../clients/engine/clock.js';
import { poolSize, runLoad, type LoadResults } from '../../clients/engine/engine.js';
import { maxMs, percentileMs } from '../../clients/engine/histogram.js';
import { HttpClient } from '../../clients/http/client.js';
import { http } from '../../clients/http/index.js';
import { HttpWorkload } from '../../clients/http/schema.js';
import { LLM_HEADERS, LlmClient } from '../../clients/llm/client.js';
import { llm } from '../../clients/llm/index.js';
import { ollamaProtocol } from '../../clients/llm/ollama.js';
import { openaiProtocol } from '../../clients/llm/openai.js';
import { promptsOf } from '../../clients/llm/prompts.js';
import { apiOf, LlmWorkload, type Protocol } from '../../clients/llm/schema.js';
import { tritonProtocol } from '../../clients/llm/triton.js';
import type { Timeline } from '../fakes/llm-timeline.js';
import { processCpuSeconds } from './proc.js';

/** Tokens per answer: 16 chunks of one token, all due at once. */
export const TOKENS = 16;
const TIMELINE: Timeline = { chunks: Array.from({ length: TOKENS }, () => ({ afterMs: 0, tokens: 1 })) };
/** Closed-loop workers tried with openai; ollama and triton run at the llm client's best of these. */
const WORKERS = [64, 256];
/** New connections and a cold JIT on both sides, per client: not measured. */
const WARMUP_MS = 1000;
/** Each measured run: a ramp until answers flow at the full rate (about one answer's time at 256 workers), then the window. */
const LEAD_MS = 500;
const WINDOW_MS = 1000;

/** The model each stand-in serves: named, so the llm and http bodies are the same bytes. */
const MODELS: Record<Protocol, string> = { openai: 'facebook/opt-125m', ollama: 'llama3.2:latest', triton: 'llama' };

const STAND_IN = fileURLToPath(new URL('../fakes/llm-stand-in-main.js', import.meta.url));

interface StandIn {
  port: number;
  child: ChildProcess;
}

/** A stand-in in its own process, as a real server would be: the client must not share its event loop. */
async function startStandIn(protocol: Protocol): Promise<StandIn> {
  if (!existsSync(STAND_IN)) throw new Error(`${STAND_IN} is missing: run npm run build first`);
  const child = spawn(process.execPath, [STAND_IN, '--protocol', protocol, '--timeline', JSON.stringify(TIMELINE)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`${protocol} stand-in exited with ${code}`)));
  });
  return { port, child };
}

async function stopStandIn(s: StandIn): Promise<void> {
  if (s.child.exitCode !== null) return;
  const exited = new Promise((r) => s.child.once('exit', r));
  s.child.kill('SIGTERM');
  await exited;
}

/** CPU ms a process has used so far (user + system); from /proc for another process, undefined off Linux. */
function cpuMs(pid?: number): number | undefined {
  if (pid === undefined) {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  }
  const s = processCpuSeconds(pid);
  return s === undefined ? undefined : s * 1000;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const service = (port: number) => ({ scheme: 'http' as const, host: '127.0.0.1', port });

function llmWorkload(protocol: Protocol): LlmWorkload {
  return LlmWorkload.parse({ type: 'llm', protocol, model: MODELS[protocol] });
}

/** The request LlmClient sends for this workload, built by the same protocol code. */
function llmRequest(w: LlmWorkload): { path: string; body: string } {
  const api = apiOf(w);
  const p = w.protocol === 'ollama' ? ollamaProtocol(w, api as 'chat') : w.protocol === 'triton' ? tritonProtocol(w, api as 'generate') : openaiProtocol(w, api as 'chat');
  const r = p.request(promptsOf(w)[0], w.model);
  return { path: r.path, body: r.body.toString('utf8') };
}

/** One client's measured window at a worker count. */
export interface Window {
  workers: number;
  requests: number;
  seconds: number;
  tokens: number;
  /** Runner CPU over the window, ms: the client's cost without the server's. */
  clientCpuMs: number;
  /** Stand-in CPU over the window, ms (NaN off Linux). */
  serverCpuMs: number;
}

type Make = (connections: number) => BenchmarkClient;

/**
 * The engine driving a client, with completions and tokens counted as they
 * end, so a window can be read mid-run: in steady state, without the ramp at
 * the start of a run or the drain at its end (up to a whole answer long).
 */
class Driver implements BenchmarkClient {
  readonly operations: readonly string[];
  readonly mix: OperationMix;
  private readonly inner: BenchmarkClient;
  private completed = 0;
  private tokens = 0;

  constructor(
    make: Make,
    maxWorkers: number,
    private readonly metrics: readonly MetricDecl[],
    private readonly serverPid: number,
    /** Output tokens of one answer: the llm client's count, or what the stand-in sends. */
    private readonly tokensOf: (r: OperationResult) => number,
  ) {
    this.inner = make(poolSize(maxWorkers));
    this.operations = this.inner.operations;
    this.mix = this.inner.mix;
  }

  setup(): Promise<void> {
    return this.inner.setup();
  }

  async execute(op: Operation): Promise<OperationResult> {
    const r = await this.inner.execute(op);
    this.completed++;
    this.tokens += this.tokensOf(r);
    return r;
  }

  teardown(): Promise<void> {
    return this.inner.teardown();
  }

  private run(workers: number, ms: number): Promise<LoadResults> {
    const load = Load.parse({ mode: 'closed', workers, duration: `${ms}ms` });
    return runLoad({ client: this, metrics: this.metrics as MetricDecl[], load, ranks: 1, rank: 0, clock: systemClock });
  }

  async warm(workers: number): Promise<void> {
    await this.run(workers, WARMUP_MS);
  }

  /** A closed-loop run with `workers`, read over WINDOW_MS after LEAD_MS: completions, tokens, both processes' CPU. */
  async measure(workers: number): Promise<Window> {
    const snap = () => ({ at: performance.now(), completed: this.completed, tokens: this.tokens, client: cpuMs()!, server: cpuMs(this.serverPid) });
    const running = this.run(workers, LEAD_MS + WINDOW_MS + 50);
    await sleep(LEAD_MS);
    const a = snap();
    await sleep(WINDOW_MS);
    const b = snap();
    const r = await running;
    if (r.totals.errors > 0) throw new Error(`${r.totals.errors} errors: ${JSON.stringify(r.totals.errorsByReason)}`);
    return {
      workers,
      requests: b.completed - a.completed,
      seconds: (b.at - a.at) / 1000,
      tokens: b.tokens - a.tokens,
      clientCpuMs: b.client - a.client,
      serverCpuMs: a.server === undefined || b.server === undefined ? NaN : b.server - a.server,
    };
  }
}

/** One client at one worker count, its windows summed (a noisy window weighs by its length, not more). */
export interface Throughput {
  workers: number;
  rps: number;
  tokensPerSec: number;
  /** Runner CPU per request, ms. */
  clientCpuMs: number;
  /** Stand-in CPU per request, ms. */
  serverCpuMs: number;
}

function sum(ws: Window[]): Throughput {
  const t = (k: keyof Window) => ws.reduce((n, w) => n + w[k], 0);
  return { workers: ws[0].workers, rps: t('requests') / t('seconds'), tokensPerSec: t('tokens') / t('seconds'), clientCpuMs: t('clientCpuMs') / t('requests'), serverCpuMs: t('serverCpuMs') / t('requests') };
}

/** The worker count with the most requests/s over its windows. */
function best(ws: Window[]): Throughput {
  const counts = [...new Set(ws.map((w) => w.workers))];
  return counts.map((n) => sum(ws.filter((w) => w.workers === n))).reduce((a, b) => (b.rps > a.rps ? b : a));
}

export interface ProtocolResult {
  protocol: Protocol;
  path: string;
  llm: Throughput;
  http: Throughput;
  /** Every window, in the order run. */
  windows: { llm: Window[]; http: Window[] };
}

/**
 * The llm client and the http peer against one stand-in of `protocol`, at each
 * worker count, in the order llm, http, http, llm, so that whatever else the
 * machine does meanwhile (a build in another terminal) falls on both alike.
 */
export async function throughput(protocol: Protocol, workers: readonly number[]): Promise<ProtocolResult> {
  const s = await startStandIn(protocol);
  const pid = s.child.pid!;
  const w = llmWorkload(protocol);
  const req = llmRequest(w);
  const max = Math.max(...workers);
  const llmDriver = new Driver((connections) => new LlmClient(w, { service: service(s.port), connections }), max, llm.metrics, pid, (r) => {
    const t = r.metrics?.outputTokens;
    return typeof t === 'number' ? t : 0;
  });
  const hw = HttpWorkload.parse({ type: 'http', method: 'POST', path: req.path, headers: LLM_HEADERS, body: req.body });
  // The http client reads bytes, not tokens: the stand-in sends TOKENS per answer.
  const httpDriver = new Driver((connections) => new HttpClient(hw, { service: service(s.port), connections }), max, http.metrics, pid, () => TOKENS);
  try {
    await llmDriver.setup();
    await httpDriver.setup();
    await llmDriver.warm(max);
    await httpDriver.warm(max);
    const windows = { llm: [] as Window[], http: [] as Window[] };
    for (const n of workers) {
      windows.llm.push(await llmDriver.measure(n));
      windows.http.push(await httpDriver.measure(n));
      windows.http.push(await httpDriver.measure(n));
      windows.llm.push(await llmDriver.measure(n));
    }
    return { protocol, path: req.path, llm: best(windows.llm), http: best(windows.http), windows };
  } finally {
    await llmDriver.teardown();
    await httpDriver.teardown();
    await stopStandIn(s);
  }
}

export interface SendLag {
  rate: number;
  seconds: number;
  /** The open loop's cap on requests in flight; arrivals past it are dropped. */
  concurrency: number;
  achievedRps: number;
  requests: number;
  dropped: number;
  errors: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/**
 * The engine's intended-vs-actual send time for the llm workload in open loop
 * at `rate`/s against the openai stand-in, after a closed-loop warmup that
 * opens connections and warms the JIT on both sides.
 */
export async function sendLag(rate = 1000, seconds = 3, concurrency = 512): Promise<SendLag> {
  const s = await startStandIn('openai');
  const client = new LlmClient(llmWorkload('openai'), { service: service(s.port), connections: poolSize(concurrency) });
  const run = (load: unknown) => runLoad({ client, metrics: llm.metrics as MetricDecl[], load: Load.parse(load), ranks: 1, rank: 0, clock: systemClock });
  try {
    await client.setup();
    await run({ mode: 'closed', workers: 128, duration: `${WARMUP_MS}ms` });
    const r = await run({ mode: 'open', rate, arrival: 'constant', concurrency, warmup: `${WARMUP_MS}ms`, duration: `${seconds}s` });
    const lag = r.histograms.sendLag;
    return {
      rate,
      seconds,
      concurrency,
      achievedRps: r.totals.requests / (r.measuredMs / 1000),
      requests: r.totals.requests,
      dropped: r.totals.dropped,
      errors: r.totals.errors,
      p50Ms: percentileMs(lag, 50),
      p99Ms: percentileMs(lag, 99),
      maxMs: maxMs(lag),
    };
  } finally {
    await client.teardown();
    await stopStandIn(s);
  }
}

const f = (x: number, d = 0) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');
const machine = () => `load average ${loadavg()[0].toFixed(1)} on ${cpus().length} cores`;

/** Runs every part and prints a table and the ratios; the numbers are returned too. */
export async function main(): Promise<{ throughput: ProtocolResult[]; sendLag: SendLag }> {
  console.log(`LLM CLIENT COST: one runner process, closed loop; the stand-in answers ${TOKENS} one-token chunks at once; llm vs http POSTing the same body (${machine()})`);
  console.log('PROTOCOL  CLIENT  WORKERS  REQ/S  TOKENS/S  CLIENT_CPU_MS/REQ  SERVER_CPU_MS/REQ');
  const results: ProtocolResult[] = [];
  const row = (protocol: string, client: string, t: Throughput) =>
    `${protocol.padEnd(8)}  ${client.padEnd(6)}  ${String(t.workers).padStart(7)}  ${f(t.rps).padStart(5)}  ${f(t.tokensPerSec).padStart(8)}  ${f(t.clientCpuMs, 3).padStart(17)}  ${f(t.serverCpuMs, 3).padStart(17)}`;
  let workers: number[] = WORKERS;
  for (const protocol of ['openai', 'ollama', 'triton'] as const) {
    const r = await throughput(protocol, workers);
    results.push(r);
    console.log(row(protocol, 'llm', r.llm));
    console.log(row(protocol, 'http', r.http));
    console.log(
      `ratio llm/http (${protocol}, POST ${r.path}, workers ${workers.join('/')}): requests/s x${(r.llm.rps / r.http.rps).toFixed(2)}, client CPU per request x${(r.llm.clientCpuMs / r.http.clientCpuMs).toFixed(2)} (1.00 = streaming and parsing cost nothing)`,
    );
    // Saturation found once: the other protocols run at the llm client's best.
    workers = [r.llm.workers];
  }
  const lag = await sendLag();
  console.log(
    `SEND LAG: llm (openai) open loop ${lag.rate} req/s for ${lag.seconds}s, cap ${lag.concurrency} in flight: p50 ${lag.p50Ms.toFixed(2)} ms, p99 ${lag.p99Ms.toFixed(2)} ms, max ${lag.maxMs.toFixed(2)} ms; achieved ${f(lag.achievedRps)} req/s, ${lag.dropped} dropped, ${lag.errors} errors (${machine()})`,
  );
  return { throughput: results, sendLag: lag };
}
