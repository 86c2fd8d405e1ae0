// The fake vLLM speaks the protocol the LLM client relies on; checked here with
// plain fetch so a fault in the fake cannot hide behind the client under test.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { Load } from '../../../../api/schemas.js';
import { Workload } from '../../../../clients/registry.js';
import { encodeSpec } from '../../../../clients/runner/spec.js';
import type { RankSummary } from '../../../../api/runner-contract.js';
import { startFakeVllm, type FakeVllm } from '../../../fakes/vllm-server.js';

const ROOT = fileURLToPath(new URL('../../../..', import.meta.url));
const FAKE_MAIN = join(ROOT, 'dist/test/fakes/vllm-server-main.js');
const RUNNER_MAIN = join(ROOT, 'dist/clients/runner/main.js');

let fake: FakeVllm | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

const post = (path: string, body: unknown) =>
  fetch(`${fake!.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });

function sseData(text: string): unknown[] {
  return text
    .split('\n\n')
    .filter((l) => l.startsWith('data: '))
    .map((l) => l.slice(6))
    .map((d) => (d === '[DONE]' ? d : JSON.parse(d)));
}

describe('fake vLLM', () => {
  it('answers /health and lists its model', async () => {
    fake = await startFakeVllm({ model: 'm/one' });
    expect((await fetch(`${fake.url}/health`)).status).toBe(200);
    expect(await (await fetch(`${fake.url}/v1/models`)).json()).toMatchObject({ object: 'list', data: [{ id: 'm/one', object: 'model' }] });
    expect((await fetch(`${fake.url}/v1/nothing`)).status).toBe(404);
  });

  it('completes without streaming, with usage and exactly max_tokens tokens', async () => {
    fake = await startFakeVllm({ tokenDelayMs: 0, ttftMs: 0 });
    const chat = await (await post('/v1/chat/completions', { model: 'facebook/opt-125m', messages: [{ role: 'user', content: 'a b c' }], max_tokens: 4 })).json();
    expect(chat).toMatchObject({ object: 'chat.completion', choices: [{ message: { role: 'assistant' }, finish_reason: 'length' }], usage: { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 } });
    const comp = await (await post('/v1/completions', { model: 'facebook/opt-125m', prompt: 'x', max_tokens: 2 })).json();
    expect(comp).toMatchObject({ object: 'text_completion', choices: [{ text: ' the GPU' }], usage: { completion_tokens: 2 } });
  });

  it('streams one SSE chunk per token, usage on request, then [DONE]', async () => {
    fake = await startFakeVllm({ tokenDelayMs: 0, ttftMs: 0 });
    const res = await post('/v1/chat/completions', { model: 'facebook/opt-125m', messages: [{ role: 'user', content: 'hi' }], max_tokens: 3, stream: true, stream_options: { include_usage: true } });
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
    const data = sseData(await res.text()) as Array<{ choices: Array<{ delta: { content?: string } }>; usage?: unknown } | string>;
    expect(data.at(-1)).toBe('[DONE]');
    const chunks = data.slice(0, -1) as Array<{ choices: Array<{ delta: { role?: string; content?: string } }>; usage?: { completion_tokens: number } }>;
    expect(chunks[0].choices[0].delta.role).toBe('assistant');
    expect(chunks.filter((c) => c.choices[0]?.delta.content).map((c) => c.choices[0].delta.content)).toEqual([' the', ' GPU', ' runs']);
    expect(chunks.at(-1)!.usage?.completion_tokens).toBe(3);

    const plain = await post('/v1/completions', { model: 'facebook/opt-125m', prompt: 'hi', max_tokens: 2, stream: true });
    const pdata = sseData(await plain.text()) as Array<{ choices: Array<{ text: string }>; usage?: unknown } | string>;
    expect(pdata).toHaveLength(3);
    expect(pdata.slice(0, 2).map((c) => (c as { choices: Array<{ text: string }> }).choices[0].text)).toEqual([' the', ' GPU']);
  });

  it('rejects a bad body with 400 and an unknown model with 404, in vLLM error shape', async () => {
    fake = await startFakeVllm();
    const bad = await post('/v1/chat/completions', '{nope');
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ object: 'error', type: 'BadRequestError', code: 400 });
    expect((await post('/v1/completions', { model: 'facebook/opt-125m' })).status).toBe(400);
    expect((await post('/v1/chat/completions', { model: 'facebook/opt-125m', messages: [], max_tokens: 1 })).status).toBe(400);
    expect((await post('/v1/completions', { model: 'facebook/opt-125m', prompt: 'x', max_tokens: 0 })).status).toBe(400);
    const unknown = await post('/v1/completions', { model: 'other', prompt: 'x' });
    expect(unknown.status).toBe(404);
    expect((await unknown.json()).message).toBe('The model `other` does not exist.');
    expect(fake.requests).toBe(5);
  });
});

describe('fake vLLM as a process, driven by the real runner', () => {
  let tmp: string | undefined;
  afterEach(async () => {
    if (tmp) await rm(tmp, { recursive: true, force: true });
    tmp = undefined;
  });

  it('starts from its CLI entry and serves an llm benchmark run by the runner process', async () => {
    // `npm test` builds before it tests; a bare vitest run needs `npm run build` first.
    for (const f of [FAKE_MAIN, RUNNER_MAIN]) if (!existsSync(f)) throw new Error(`${f} is missing: run npm run build first`);
    const child = spawn(process.execPath, [FAKE_MAIN, '--port', '0', '--host', '127.0.0.1', '--model', 'tiny/model'], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const port = await new Promise<number>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (d) => {
          out += d;
          const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
          if (m) resolve(Number(m[1]));
        });
        child.on('exit', (code) => reject(new Error(`fake exited with ${code}`)));
      });
      tmp = await mkdtemp(join(tmpdir(), 'aifb-llm-runner-'));
      const spec = {
        benchmark: 'vllm-load',
        runId: 'run-1',
        ranks: 1,
        // As the controller writes it: parsed by the resource schemas first.
        workload: Workload.parse({ type: 'llm', api: 'completions', maxTokens: 4, prompts: ['hello'] }),
        load: Load.parse({ mode: 'closed', workers: 2, maxRequests: 10 }),
        service: { host: '127.0.0.1', port, scheme: 'http' as const },
      };
      await writeFile(join(tmp, 'spec.json'), JSON.stringify(encodeSpec(spec)));
      const code = await new Promise<number | null>((resolve, reject) => {
        const r = spawn(process.execPath, [RUNNER_MAIN, '--spec', join(tmp!, 'spec.json'), '--out', tmp!, '--rank', '0'], { stdio: 'ignore' });
        r.on('error', reject);
        r.on('close', resolve);
      });
      expect(code).toBe(0);
      const summary = JSON.parse(await readFile(join(tmp, 'rank-0.summary.json'), 'utf8')) as RankSummary;
      expect(summary.totals).toMatchObject({ requests: 10, errors: 0 });
      expect(summary.operations.completions.metrics.outputTokens).toEqual({ count: 10, sum: 40 });
      expect(summary.operations.completions.metrics.ttft.count).toBe(10);
      expect(summary.operations.completions.requests).toBe(10);
    } finally {
      child.kill('SIGTERM');
    }
  });
});
