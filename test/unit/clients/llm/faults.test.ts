// What a user sees when an LLM server misbehaves mid-run: each fault, played by
// the stand-ins on every third answer, is counted under one reason that says
// what happened and what to do, the run goes on, and the other answers are
// measured as if nothing had happened (over the same pool of connections).
// The readers' parsing of each fault is in protocols.test.ts; this is the
// client and the engine together, against real sockets.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Load } from '../../../../api/schemas.js';
import { systemClock } from '../../../../clients/engine/clock.js';
import { runLoad } from '../../../../clients/engine/engine.js';
import { LlmClient } from '../../../../clients/llm/client.js';
import { llm } from '../../../../clients/llm/index.js';
import { LlmWorkload } from '../../../../clients/llm/schema.js';
import type { Timeline, TimelineFault } from '../../../fakes/llm-timeline.js';
import { startFakeOllama } from '../../../fakes/ollama-server.js';
import { startFakeTriton } from '../../../fakes/triton-server.js';
import { startFakeVllm } from '../../../fakes/vllm-server.js';

type Protocol = 'openai' | 'ollama' | 'triton';
const TIMEOUT_MS = 300;
/** Three one-token chunks; the fault, when there is one, hits every third answer. */
const timeline = (fault?: TimelineFault): Timeline => ({ chunks: [{ afterMs: 5, tokens: 1 }, { afterMs: 2, tokens: 1 }, { afterMs: 2, tokens: 1 }], ...(fault ? { fault } : {}) });

interface Server {
  port: number;
  close(): Promise<void>;
}
const servers: Server[] = [];
const clients: LlmClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.teardown();
  for (const s of servers.splice(0)) await s.close();
});

async function standIn(protocol: Protocol, t: Timeline): Promise<Server> {
  const s = protocol === 'openai' ? await startFakeVllm({ timeline: t }) : protocol === 'ollama' ? await startFakeOllama({ timeline: t }) : await startFakeTriton({ timeline: t });
  servers.push(s);
  return s;
}

async function clientFor(protocol: Protocol, port: number, over: Record<string, unknown> = {}, recordFile?: string): Promise<LlmClient> {
  const model = protocol === 'triton' ? { model: 'llama' } : {};
  const w = LlmWorkload.parse({ type: 'llm', protocol, timeout: `${TIMEOUT_MS}ms`, maxTokens: 3, ...model, ...over });
  const c = new LlmClient(w, { service: { scheme: 'http', host: '127.0.0.1', port }, connections: 4, ...(recordFile ? { recordFile } : {}) });
  clients.push(c);
  await c.setup();
  return c;
}

/** Nine requests from two closed-loop workers: the stand-in faults the 3rd, 6th and 9th. */
const run = (client: LlmClient) => runLoad({ client, metrics: llm.metrics, load: Load.parse({ mode: 'closed', workers: 2, maxRequests: 9 }), ranks: 1, rank: 0, clock: systemClock });

/** Three failed under exactly one reason (so one fault is one line in a report), six measured in full. */
async function expectCounted(client: LlmClient, reason: string | RegExp, streamed = true): Promise<void> {
  const r = await run(client);
  const op = client.operations[0];
  expect(r.stopReason).toBe('maxRequests');
  expect(r.totals).toMatchObject({ requests: 9, errors: 3 });
  expect(Object.keys(r.totals.errorsByReason)).toHaveLength(1);
  const [[said, n]] = Object.entries(r.totals.errorsByReason);
  expect(n).toBe(3);
  if (typeof reason === 'string') expect(said).toBe(reason);
  else expect(said).toMatch(reason);
  expect(r.histograms.forOp(op).totalCount).toBe(6);
  const m = r.operations[op].metrics;
  expect(m.outputTokens).toEqual({ count: 6, sum: 18 });
  if (streamed) {
    expect(m.ttft.count).toBe(6);
    expect(m.itl.count).toBe(12);
  }
}

const STALLED = `the stream stalled: nothing for ${TIMEOUT_MS} ms (workload.timeout); raise workload.timeout if the server is this slow`;
const DROPPED = "the connection dropped mid-answer (closed by the other side): the server or a proxy closed it; see the server's log";

describe('a fault on some answers is counted under a reason to act on; the run goes on and measures the rest', () => {
  const cases: Array<{ protocol: Protocol; name: string; fault: TimelineFault; reason: string | RegExp; stream?: boolean }> = [
    // HTTP statuses, with the server's own message out of its error body.
    {
      protocol: 'openai',
      name: 'HTTP 400 (prompt longer than the context)',
      fault: { kind: 'status', status: 400, every: 3 },
      reason: /^HTTP 400 from POST \/v1\/chat\/completions: This model's maximum context length is 2048 tokens\. However, you requested \d+ tokens/,
    },
    {
      protocol: 'openai',
      name: 'HTTP 500',
      fault: { kind: 'status', status: 500, every: 3 },
      reason: 'HTTP 500 from POST /v1/chat/completions: EngineCore encountered an issue. See stack trace (above) for the root cause.',
    },
    {
      protocol: 'triton',
      name: 'HTTP 400',
      fault: { kind: 'status', status: 400, every: 3 },
      reason: "HTTP 400 from POST /v2/models/llama/generate_stream: unexpected shape for input 'text_input' for model 'llama'. Expected [1], got [2]",
    },
    { protocol: 'triton', name: 'HTTP 503 (queue full)', fault: { kind: 'status', status: 503, every: 3 }, reason: 'HTTP 503 from POST /v2/models/llama/generate_stream: Exceeds maximum queue size' },
    // A data line that is not JSON: the request fails (its tokens are unknown), under one reason whatever the bytes were.
    { protocol: 'openai', name: 'a malformed SSE line', fault: { kind: 'malformed', after: 1, every: 3 }, reason: "malformed stream: an event's data is not JSON (cut off or broken)" },
    { protocol: 'triton', name: 'a malformed SSE line', fault: { kind: 'malformed', after: 1, every: 3 }, reason: "malformed stream: an event's data is not JSON (cut off or broken)" },
    { protocol: 'ollama', name: 'a malformed NDJSON line', fault: { kind: 'malformed', after: 1, every: 3 }, reason: 'malformed stream: a line is not JSON (plain text)' },
    {
      protocol: 'openai',
      name: 'a whole answer cut off',
      stream: false,
      fault: { kind: 'malformed', every: 3 },
      reason: 'malformed answer: the body of POST /v1/chat/completions is not JSON (cut off or broken)',
    },
    // Stalls past workload.timeout, after the answer started.
    { protocol: 'openai', name: 'a stream that stalls', fault: { kind: 'stall', after: 2, every: 3 }, reason: STALLED },
    { protocol: 'ollama', name: 'a stream that stalls', fault: { kind: 'stall', after: 2, every: 3 }, reason: STALLED },
    { protocol: 'triton', name: 'a stream that stalls', fault: { kind: 'stall', after: 2, every: 3 }, reason: STALLED },
    // The server's error under HTTP 200, in each protocol's shape.
    { protocol: 'openai', name: 'an error event under HTTP 200', fault: { kind: 'error', after: 1, every: 3 }, reason: 'server error in stream: KV cache is full' },
    {
      protocol: 'ollama',
      name: 'an error line under HTTP 200',
      fault: { kind: 'error', after: 1, every: 3 },
      reason: 'server error in stream: an error was encountered while running the model: CUDA error: out of memory',
    },
    {
      protocol: 'triton',
      name: 'an error event under HTTP 200',
      fault: { kind: 'error', after: 1, every: 3 },
      reason: "server error in stream: Failed to process the request(s) for model 'llama', message: out of memory",
    },
    // Dropped connections: mid-answer, and before any answer (a whole answer is sent at its end).
    { protocol: 'openai', name: 'a connection dropped mid-stream', fault: { kind: 'drop', after: 1, every: 3 }, reason: DROPPED },
    { protocol: 'ollama', name: 'a connection dropped mid-stream', fault: { kind: 'drop', after: 1, every: 3 }, reason: DROPPED },
    { protocol: 'triton', name: 'a connection dropped mid-stream', fault: { kind: 'drop', after: 1, every: 3 }, reason: DROPPED },
    {
      protocol: 'openai',
      name: 'a connection dropped before the answer',
      stream: false,
      fault: { kind: 'drop', after: 1, every: 3 },
      reason: "the connection dropped before an answer came (closed by the other side): the server or a proxy closed it; see the server's log",
    },
  ];

  for (const c of cases) {
    it(`${c.protocol}${c.stream === false ? ', not streamed' : ''}: ${c.name}`, async () => {
      const s = await standIn(c.protocol, timeline(c.fault));
      await expectCounted(await clientFor(c.protocol, s.port, { stream: c.stream ?? true }), c.reason, c.stream ?? true);
    });
  }

  it('keeps what a malformed answer held in the request record, not in the reason', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'aifb-llm-faults-'));
    try {
      const file = join(dir, 'rank-0.requests.jsonl');
      const s = await standIn('openai', timeline({ kind: 'malformed', after: 1, every: 3 }));
      const client = await clientFor('openai', s.port, {}, file);
      await run(client);
      await client.teardown();
      const lines = (await readFile(file, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { error?: string; detail?: string });
      const failed = lines.filter((l) => l.error !== undefined);
      expect(lines).toHaveLength(9);
      expect(failed).toHaveLength(3);
      for (const f of failed) {
        expect(f.error).toBe("malformed stream: an event's data is not JSON (cut off or broken)");
        // Each record shows its own cut-off chunk, id and all.
        expect(f.detail).toMatch(/^\{"id":"chatcmpl-\d+","object":"chat\.completion\.chunk"/);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('an unknown model, as each server answers it', () => {
  it('vLLM: every request fails with its 404, and the reason names the models it serves', async () => {
    const s = await standIn('openai', timeline());
    const client = await clientFor('openai', s.port, { model: 'meta-llama/Llama-3.1-8B' });
    const r = await run(client);
    // The run goes on (a proxy may route names it does not list), so all nine are counted, under one reason.
    expect(r.totals).toMatchObject({ requests: 9, errors: 9 });
    expect(r.totals.errorsByReason).toEqual({
      'HTTP 404 from POST /v1/chat/completions: The model `meta-llama/Llama-3.1-8B` does not exist.; set workload.model (now meta-llama/Llama-3.1-8B) to a model the server has; it serves facebook/opt-125m': 9,
    });
  });

  it('Ollama: setup fails before any request, naming the models it has and how to get the one asked for', async () => {
    const s = await standIn('ollama', timeline());
    await expect(clientFor('ollama', s.port, { model: 'llama3' })).rejects.toThrow(
      'Ollama does not have model llama3 (it has: llama3.2:latest); set workload.model to one it has, or name llama3 as the Service\'s model so it is pulled at start',
    );
  });

  it('Triton: setup fails before any request, with the server\'s words and what its repository holds', async () => {
    const s = await standIn('triton', timeline());
    await expect(clientFor('triton', s.port, { model: 'mistral' })).rejects.toThrow(
      "Triton has no model mistral ready (GET /v2/models/mistral/ready answered HTTP 400: Request for unknown model: 'mistral' is not found); its repository holds llama (READY); " +
        "set workload.model to the model's folder name in the repository, or see the server's log for why it did not load",
    );
  });
});
