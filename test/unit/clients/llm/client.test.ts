import { afterEach, describe, expect, it } from 'vitest';
import { Load } from '../../../../api/schemas.js';
import { LlmWorkload } from '../../../../clients/llm/schema.js';
import { llm } from '../../../../clients/llm/index.js';
import { ConfigError } from '../../../../clients/client.js';
import { systemClock } from '../../../../clients/engine/clock.js';
import { runLoad } from '../../../../clients/engine/engine.js';
import type { WirePool } from '../../../../clients/http/wire.js';
import { LlmClient } from '../../../../clients/llm/client.js';
import { inflightLimit } from '../../../../clients/engine/engine.js';
import { createClient, type RunnerSpec } from '../../../../clients/registry.js';
import { startFakeVllm, type FakeVllm, type FakeVllmOptions } from '../../../fakes/vllm-server.js';

const workload = (over: Record<string, unknown> = {}) => LlmWorkload.parse({ type: 'llm', maxTokens: 5, ...over });
const endpointOf = (port: number) => ({ host: '127.0.0.1', port, scheme: 'http' as const });

let fake: FakeVllm | undefined;
let client: LlmClient | undefined;
afterEach(async () => {
  await client?.teardown();
  await fake?.close();
  client = undefined;
  fake = undefined;
});

async function against(over: Record<string, unknown> = {}, fakeOptions: FakeVllmOptions = {}): Promise<LlmClient> {
  fake = await startFakeVllm({ tokenDelayMs: 0, ttftMs: 1, ...fakeOptions });
  client = new LlmClient(workload(over), { service: endpointOf(fake.port), connections: 2 });
  await client.setup();
  return client;
}

describe('LlmClient against the fake vLLM', () => {
  for (const api of ['chat', 'completions'] as const) {
    for (const stream of [true, false]) {
      it(`${api}, stream ${stream}: counts max_tokens output tokens under the op named for the api${stream ? ', with ttft and itl' : ''}`, async () => {
        const c = await against({ api, stream, maxTokens: 7 }, { ttftMs: 20, tokenDelayMs: 10 });
        expect(c.operations).toEqual([api]);
        expect(c.mix.operations).toEqual({ [api]: 1 });
        const r = await c.execute({ name: api, seq: 0 });
        expect(r.metrics?.outputTokens).toBe(7);
        expect(r.metrics?.inputTokens).toBeGreaterThan(0);
        if (stream) {
          // The fake waits ttftMs before the first token, then tokenDelayMs between tokens.
          expect(r.metrics?.ttft).toBeGreaterThanOrEqual(19);
          // Six gaps between seven tokens. The last token is due 20 + 6 x 10 ms after the request and never
          // comes earlier: TTFT plus the gaps reach it. (How close they come is test/timing's business,
          // not a unit test's on a busy machine.)
          const itl = r.metrics?.itl as number[];
          expect(itl).toHaveLength(6);
          expect(itl.every((gap) => gap >= 0)).toBe(true);
          expect((r.metrics?.ttft as number) + itl.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(79);
        } else {
          expect(r.metrics?.ttft).toBeUndefined();
          expect(r.metrics?.itl).toBeUndefined();
        }
      });
    }
  }

  it('counts content chunks when the server sends no usage in the stream', async () => {
    const c = await against({ api: 'chat', stream: true, maxTokens: 4 }, { streamUsage: false });
    // The fake's role-only first chunk carries no text and must not count.
    expect((await c.execute({ name: 'chat', seq: 0 })).metrics?.outputTokens).toBe(4);
  });

  it('discovers the model from /v1/models when none is set', async () => {
    const c = await against({}, { model: 'meta-llama/Llama-3.1-8B-Instruct' });
    expect(c.model).toBe('meta-llama/Llama-3.1-8B-Instruct');
    expect((await c.execute({ name: 'chat', seq: 0 })).metrics?.outputTokens).toBe(5);
  });

  it('uses workload.model as given', async () => {
    const c = await against({ model: 'facebook/opt-125m' });
    expect(c.model).toBe('facebook/opt-125m');
  });

  it('fails a request for a model the server does not serve with the status and the server message', async () => {
    const c = await against({ model: 'no/such-model', stream: false });
    await expect(c.execute({ name: 'chat', seq: 0 })).rejects.toThrow(/HTTP 404 from POST \/v1\/chat\/completions: .*The model `no\/such-model` does not exist/);
    // The connection stays usable after an error response.
    await expect(c.execute({ name: 'chat', seq: 1 })).rejects.toThrow(/HTTP 404/);
  });

  it('sends the prompts round-robin by op.seq', async () => {
    const seen: string[] = [];
    fake = await startFakeVllm({ tokenDelayMs: 0, ttftMs: 0 });
    // Wrap the pool's send to see the bodies the client sends.
    client = new LlmClient(workload({ prompts: ['one', 'two', 'three'], api: 'completions', stream: false }), { service: endpointOf(fake.port), connections: 1 });
    await client.setup();
    const pool = (client as unknown as { pool: WirePool }).pool;
    const original = pool.send.bind(pool);
    pool.send = (req, ok, sink) => {
      const bytes = req.bytes.toString();
      seen.push(JSON.parse(bytes.slice(bytes.indexOf('\r\n\r\n') + 4)).prompt);
      return original(req, ok, sink);
    };
    for (const seq of [0, 1, 2, 3, 7]) await client.execute({ name: 'completions', seq });
    expect(seen).toEqual(['one', 'two', 'three', 'one', 'two']);
  });

  it('gives up on a stream that stalls longer than workload.timeout, and on an answer that does not come', async () => {
    // 1 s, far below the fake's 5 s to the first token: at 150 ms a loaded CI machine once delivered the streamed answer's head
    // itself later than the timeout, which then read as no answer at all rather than a stalled stream.
    const c = await against({ timeout: '1s', stream: true }, { ttftMs: 5_000 });
    await expect(c.execute({ name: 'chat', seq: 0 })).rejects.toThrow('the stream stalled: nothing for 1000 ms (workload.timeout)');
    await c.teardown();
    const d = new LlmClient(workload({ timeout: '1s', stream: false }), { service: endpointOf(fake!.port), connections: 1 });
    client = d;
    await d.setup();
    await expect(d.execute({ name: 'chat', seq: 0 })).rejects.toThrow('no answer within 1000 ms (workload.timeout) from POST /v1/chat/completions');
  });

  it('fails setup naming the endpoint when nothing listens there', async () => {
    const gone = await startFakeVllm();
    const port = gone.port;
    await gone.close();
    client = new LlmClient(workload(), { service: endpointOf(port), connections: 1 });
    await expect(client.setup()).rejects.toThrow(new RegExp(`cannot reach the llm service at http://127\\.0\\.0\\.1:${port} .*ECONNREFUSED`));
  });

  it('needs an endpoint: a ConfigError that points at spec.serviceRef', () => {
    expect(() => new LlmClient(workload(), { connections: 1 })).toThrow(ConfigError);
    try {
      new LlmClient(workload(), { connections: 1 });
    } catch (e) {
      expect((e as ConfigError).problems).toEqual([{ path: 'serviceRef', message: expect.stringContaining('an llm workload needs a service: set spec.serviceRef') }]);
    }
  });

  it('sends the service token as a bearer token, which a server started with --api-key wants', async () => {
    fake = await startFakeVllm({ tokenDelayMs: 0, ttftMs: 0, apiKey: 'k3y' });
    const without = new LlmClient(workload(), { service: endpointOf(fake.port), connections: 1 });
    await expect(without.setup()).rejects.toThrow(/HTTP 401: \{"error":"Unauthorized"\}; the server wants an API key: set credentials.token on the Service/);
    await without.teardown();
    client = new LlmClient(workload(), { service: endpointOf(fake.port), connections: 1, token: 'k3y' });
    await client.setup();
    expect((await client.execute({ name: 'chat', seq: 0 })).metrics?.outputTokens).toBe(5);
  });

  it('refuses to execute before setup', async () => {
    const c = new LlmClient(workload(), { service: endpointOf(1), connections: 1 });
    await expect(c.execute({ name: 'chat', seq: 0 })).rejects.toThrow(/before setup/);
  });
});

describe('llm in the registry and the engine', () => {
  const spec = (port: number, load: Record<string, unknown>, ranks = 1): RunnerSpec => ({
    benchmark: 'vllm-load',
    runId: 'run-1',
    ranks,
    workload: workload({ maxTokens: 3 }),
    load: Load.parse(load),
    service: endpointOf(port),
  });

  it('creates an LlmClient for type llm, with a pool sized to the rank share of the load', async () => {
    expect(await createClient(spec(8000, { mode: 'closed', workers: 8, duration: '1s' }), { rank: 0 })).toBeInstanceOf(LlmClient);
    expect(inflightLimit(Load.parse({ mode: 'closed', workers: 8, duration: 1 }), 2, 0)).toBe(4);
    expect(inflightLimit(Load.parse({ mode: 'open', rate: 10, concurrency: 30, duration: 1 }), 3, 1)).toBe(10);
  });

  it('a 1 s closed-loop run with 2 workers records tokens, ttft and itl on the metrics path, from the intended send time', async () => {
    fake = await startFakeVllm({ tokenDelayMs: 1, ttftMs: 2 });
    const s = spec(fake.port, { mode: 'closed', workers: 2, duration: '1s' });
    client = (await createClient(s, { rank: 0 })) as LlmClient;
    await client.setup();
    const r = await runLoad({ client, metrics: llm.metrics, load: s.load, ranks: 1, rank: 0, clock: systemClock });
    expect(r.stopReason).toBe('duration');
    expect(r.totals.requests).toBeGreaterThan(0);
    expect(r.totals.errors).toBe(0);
    expect(r.operations.chat.requests).toBe(r.totals.requests);
    const m = r.operations.chat.metrics;
    expect(m.outputTokens).toEqual({ count: r.totals.requests, sum: 3 * r.totals.requests });
    expect(m.ttft.count).toBe(r.totals.requests);
    expect(m.itl.count).toBe(2 * r.totals.requests);
    const ttft = r.histograms.metric('chat', 'ttft')!.histogram;
    const latency = r.histograms.forOp('chat');
    // Time to first token comes before the last token: its percentiles sit below the latency's.
    expect(ttft.getValueAtPercentile(50)).toBeLessThanOrEqual(latency.getValueAtPercentile(50));
    expect(ttft.getValueAtPercentile(50)).toBeGreaterThanOrEqual(2000);
  });
});
