import { afterEach, describe, expect, it } from 'vitest';
import { Load, LlmWorkload } from '../../../api/schemas.js';
import { ConfigError } from '../../../clients/client.js';
import { systemClock } from '../../../clients/engine/clock.js';
import { runLoad } from '../../../clients/engine/engine.js';
import { LlmClient, llmConnections } from '../../../clients/llm.js';
import { createClient } from '../../../clients/registry.js';
import type { RunnerSpec } from '../../../api/runner-contract.js';
import { startFakeVllm, type FakeVllm, type FakeVllmOptions } from '../../fakes/vllm-server.js';

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
  client = new LlmClient(workload(over), { endpoint: endpointOf(fake.port), connections: 2 });
  await client.setup();
  return client;
}

describe('LlmClient against the fake vLLM', () => {
  for (const api of ['chat', 'completions'] as const) {
    for (const stream of [true, false]) {
      it(`${api}, stream ${stream}: counts max_tokens output tokens under the op named for the api`, async () => {
        const c = await against({ api, stream, maxTokens: 7 });
        expect(c.operations).toEqual([api]);
        expect(c.mix.operations).toEqual({ [api]: 1 });
        expect(await c.execute({ name: api, seq: 0 })).toEqual({ bytes: 7 });
        expect(await c.execute({ name: api, seq: 1 })).toEqual({ bytes: 7 });
        expect(c.ttftStats().count).toBe(stream ? 2 : 0);
      });
    }
  }

  it('counts content chunks when the server sends no usage in the stream', async () => {
    const c = await against({ api: 'chat', stream: true, maxTokens: 4 }, { streamUsage: false });
    // The fake's role-only first chunk carries no text and must not count.
    expect(await c.execute({ name: 'chat', seq: 0 })).toEqual({ bytes: 4 });
  });

  it('discovers the model from /v1/models when none is set', async () => {
    const c = await against({}, { model: 'meta-llama/Llama-3.1-8B-Instruct' });
    expect(c.model).toBe('meta-llama/Llama-3.1-8B-Instruct');
    expect(await c.execute({ name: 'chat', seq: 0 })).toEqual({ bytes: 5 });
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
    // Wrap the pool's request to see the bodies the client sends.
    client = new LlmClient(workload({ prompts: ['one', 'two', 'three'], api: 'completions', stream: false }), { endpoint: endpointOf(fake.port), connections: 1 });
    await client.setup();
    const pool = (client as unknown as { pool: { request: (o: { body?: Buffer }) => Promise<unknown> } }).pool;
    const original = pool.request.bind(pool);
    pool.request = (o) => {
      if (o.body) seen.push(JSON.parse(o.body.toString()).prompt);
      return original(o);
    };
    for (const seq of [0, 1, 2, 3, 7]) await client.execute({ name: 'completions', seq });
    expect(seen).toEqual(['one', 'two', 'three', 'one', 'two']);
  });

  it('gives up after workload.timeout, streamed or not', async () => {
    const c = await against({ timeout: '150ms', stream: true }, { ttftMs: 5_000 });
    await expect(c.execute({ name: 'chat', seq: 0 })).rejects.toThrow('no complete answer within 150 ms (workload.timeout)');
    await c.teardown();
    const d = new LlmClient(workload({ timeout: '150ms', stream: false }), { endpoint: endpointOf(fake!.port), connections: 1 });
    client = d;
    await d.setup();
    await expect(d.execute({ name: 'chat', seq: 0 })).rejects.toThrow('no complete answer within 150 ms (workload.timeout)');
  });

  it('fails setup naming the endpoint when nothing listens there', async () => {
    const gone = await startFakeVllm();
    const port = gone.port;
    await gone.close();
    client = new LlmClient(workload(), { endpoint: endpointOf(port), connections: 1 });
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

  it('refuses to execute before setup', async () => {
    const c = new LlmClient(workload(), { endpoint: endpointOf(1), connections: 1 });
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
    endpoint: endpointOf(port),
  });

  it('creates an LlmClient for type llm, with a pool sized to the rank share of the load', () => {
    expect(createClient(spec(8000, { mode: 'closed', workers: 8, duration: '1s' }), { rank: 0 })).toBeInstanceOf(LlmClient);
    expect(llmConnections(Load.parse({ mode: 'closed', workers: 8, duration: 1 }), 2, 0)).toBe(4);
    expect(llmConnections(Load.parse({ mode: 'open', rate: 10, concurrency: 30, duration: 1 }), 3, 1)).toBe(10);
  });

  it('a 1 s closed-loop run with 2 workers completes requests without errors, tokens in the bytes counter', async () => {
    fake = await startFakeVllm({ tokenDelayMs: 1, ttftMs: 2 });
    const s = spec(fake.port, { mode: 'closed', workers: 2, duration: '1s' });
    client = createClient(s, { rank: 0 }) as LlmClient;
    await client.setup();
    const r = await runLoad({ client, load: s.load, ranks: 1, rank: 0, clock: systemClock });
    expect(r.stopReason).toBe('duration');
    expect(r.totals.requests).toBeGreaterThan(0);
    expect(r.totals.errors).toBe(0);
    expect(r.operations.chat.requests).toBe(r.totals.requests);
    expect(r.totals.bytes).toBe(3 * r.totals.requests);
    expect(client.ttftStats().count).toBeGreaterThanOrEqual(r.totals.requests);
  });
});
