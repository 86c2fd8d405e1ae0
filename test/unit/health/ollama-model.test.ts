// Making an Ollama's model present, against the Ollama stand-in over real HTTP:
// what is listed is not pulled, what is missing is pulled with a few progress
// events, a refused or broken pull says what to do, and the deadline holds.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { SimulatedClock } from 'xstate';
import { ActorFailure } from '../../../machines/lifecycle.js';
import { canonicalModel, hasModel } from '../../../controller/health/ollama-api.js';
import { ensureOllamaModel, type EnsureModelOptions } from '../../../controller/health/ollama-model.js';
import { ReadinessTimeout } from '../../../controller/health/readiness.js';
import { systemClock } from '../../../controller/runtime/clock.js';
import { startFakeOllama, type FakeOllama, type FakeOllamaOptions } from '../../fakes/ollama-server.js';

const closers: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

async function ollama(options: FakeOllamaOptions): Promise<FakeOllama> {
  const server = await startFakeOllama(options);
  closers.push(() => server.close());
  return server;
}

function options(over: Partial<EnsureModelOptions> = {}): EnsureModelOptions & { events: string[] } {
  const events: string[] = [];
  const clock = over.clock ?? systemClock;
  return {
    clock,
    deadline: clock.now() + 60_000,
    timeoutMs: 60_000,
    intervalMs: 10,
    signal: new AbortController().signal,
    what: 'service ol at 127.0.0.1:11434',
    event: (reason, message) => events.push(`${reason} ${message}`),
    ...over,
    events,
  };
}

const ep = (s: FakeOllama) => ({ host: '127.0.0.1', port: s.port });

describe('Ollama model names', () => {
  it('reads a name without a tag as :latest, leaves out the default registry, ignores case', () => {
    expect(canonicalModel('llama3.2')).toBe('llama3.2:latest');
    expect(canonicalModel('registry.ollama.ai/library/Llama3.2:1b')).toBe('llama3.2:1b');
    expect(canonicalModel('myregistry:5000/team/model')).toBe('myregistry:5000/team/model:latest');
    expect(hasModel(['llama3.2:latest'], 'llama3.2')).toBe(true);
    expect(hasModel(['llama3.2:latest'], 'llama3.2:1b')).toBe(false);
  });
});

describe('ensureOllamaModel', () => {
  it('does not pull a model the server lists, tag or no tag', async () => {
    const s = await ollama({ models: ['llama3.2:1b', 'qwen2.5:latest'] });
    const o = options();
    expect(await ensureOllamaModel(ep(s), 'llama3.2:1b', o)).toEqual({ pulled: false });
    expect(await ensureOllamaModel(ep(s), 'qwen2.5', o)).toEqual({ pulled: false });
    expect(s.pulls).toEqual([]);
    expect(o.events).toEqual([]);
  });

  it('pulls a missing model, telling progress a few times, and resolves once the server has it', async () => {
    const s = await ollama({ models: [], pullSteps: 200 });
    // Simulated time stands still while the pull streams in real time: the event's duration is exact.
    const clock = new SimulatedClock();
    clock.increment(1_000);
    const o = options({ clock, deadline: 61_000 });
    expect(await ensureOllamaModel(ep(s), 'llama3.2:1b', o)).toEqual({ pulled: true });
    expect(s.pulls).toEqual(['llama3.2:1b']);
    expect(s.models).toContain('llama3.2:1b');
    expect(o.events[0]).toBe('PullingModel model llama3.2:1b is not on service ol at 127.0.0.1:11434; pulling it (0 other model(s) there)');
    expect(o.events.slice(1, -1)).toEqual([
      'PullingModel pulling llama3.2:1b: 25% of 1.3 GB',
      'PullingModel pulling llama3.2:1b: 50% of 1.3 GB',
      'PullingModel pulling llama3.2:1b: 75% of 1.3 GB',
    ]);
    expect(o.events.at(-1)).toBe('ModelPulled pulled model llama3.2:1b (1.3 GB) in 0ms');
  });

  it('fails a model the library lacks with the server error, the model, and what to check', async () => {
    const s = await ollama({ models: [], unpullable: ['llama3.2:nosuch'] });
    const err = await ensureOllamaModel(ep(s), 'llama3.2:nosuch', options()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ActorFailure);
    expect(err).toMatchObject({ reason: 'ModelPullFailed', retryable: false });
    expect((err as Error).message).toBe(
      'could not pull model llama3.2:nosuch into service ol at 127.0.0.1:11434: HTTP 500: pull model manifest: file does not exist; ' +
        'check spec.model against the Ollama library (https://ollama.com/library; a name without a tag means :latest), ' +
        'and that the node Ollama runs on can reach its registry (registry.ollama.ai, or the host the name starts with); ' +
        "or pull it beforehand into the server's model folder (OLLAMA_MODELS, ~/.ollama/models by default) with `ollama pull llama3.2:nosuch`",
    );
    expect(s.models).toEqual([]);
  });

  it('fails a pull whose stream ends in an error object, as Ollama reports a download that broke', async () => {
    const s = await ollama({ models: [], brokenPull: ['llama3.2:1b'], pullSteps: 8 });
    const o = options();
    const err = await ensureOllamaModel(ep(s), 'llama3.2:1b', o).catch((e: unknown) => e);
    expect(err).toMatchObject({ reason: 'ModelPullFailed' });
    expect((err as Error).message).toMatch(/^could not pull model llama3\.2:1b into .*: max retries exceeded: read tcp .*connection reset by peer; check spec\.model/);
    // Progress was told up to the break (the first quarter crossed at 37.5%, the stand-in's fourth line).
    expect(o.events).toContain('PullingModel pulling llama3.2:1b: 37% of 1.3 GB');
    expect(s.models).toEqual([]);
  });

  it('gives up at the readiness deadline, saying how far it got and which timeout to raise; the pull is cancelled', async () => {
    const clock = new SimulatedClock();
    const s = await ollama({ models: [], pullMs: 1_200, pullSteps: 10 });
    const o = options({ clock, deadline: 30_000, timeoutMs: 600_000 });
    const ensured = ensureOllamaModel(ep(s), 'llama3.2:1b', o).catch((e: unknown) => e);
    // Cut in once the pull has made some progress: the message then says how far it got.
    while (!o.events.some((e) => e.startsWith('PullingModel pulling llama3.2:1b: '))) await new Promise((r) => setTimeout(r, 20));
    clock.increment(30_000);
    const err = await ensured;
    expect(err).toBeInstanceOf(ReadinessTimeout);
    expect((err as Error).message).toMatch(
      /^service ol at 127\.0\.0\.1:11434: pulling model llama3\.2:1b \(\d+% of 1\.3 GB done\) did not finish within spec\.readiness\.timeout \(10m\), which covers both the server answering and the model pull; raise spec\.readiness\.timeout/,
    );
    // The stand-in, like Ollama, drops a pull whose client went away: past the time the whole pull
    // would have taken, the model has not arrived.
    await new Promise((r) => setTimeout(r, 1_300));
    expect(s.models).toEqual([]);
  });

  it('keeps asking a server that does not list models yet, and names GET /api/tags when the deadline passes', async () => {
    const clock = new SimulatedClock();
    const server: Server = createServer((_req, res) => res.writeHead(404).end('404 page not found'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    closers.push(() => void server.close());
    const o = options({ clock, deadline: 5_000, timeoutMs: 5_000, intervalMs: 1_000 });
    const ensured = ensureOllamaModel({ host: '127.0.0.1', port: (server.address() as AddressInfo).port }, 'llama3.2', o).catch((e: unknown) => e);
    for (let i = 0; i < 6; i++) {
      await new Promise((r) => setTimeout(r, 20));
      clock.increment(1_000);
    }
    const err = await ensured;
    expect(err).toBeInstanceOf(ReadinessTimeout);
    expect((err as Error).message).toMatch(/listing its models \(GET \/api\/tags answered HTTP 404: 404 page not found\) did not finish within spec\.readiness\.timeout \(5s\)/);
  });
});
