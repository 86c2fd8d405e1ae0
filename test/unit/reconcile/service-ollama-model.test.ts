// An Ollama Service pulls its spec.model at start when the server lacks it: the
// Service reconciler with its real effects, the fake executor, simulated time,
// and the Ollama stand-in answering over HTTP where the launch said it landed.
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeOllama, type FakeOllama, type FakeOllamaOptions } from '../../fakes/ollama-server.js';
import { reconcilerWorld, type ReconcilerWorld } from './harness.js';

let world: ReconcilerWorld | undefined;
let ollama: FakeOllama | undefined;
afterEach(async () => {
  world?.shutdown();
  await ollama?.close();
  world = ollama = undefined;
});

/** The stand-in plays the server the launch runs: the fake executor reports it at spec.port. */
async function setUp(options: FakeOllamaOptions): Promise<{ world: ReconcilerWorld; ollama: FakeOllama }> {
  ollama = await startFakeOllama(options);
  world = reconcilerWorld();
  return { world, ollama };
}

const service = (port: number, model: string, extra = '') => `apiVersion: aifb.io/v1alpha1
kind: Service
metadata:
  name: ol
spec:
  type: ollama
  model: ${model}
  command: [ollama, serve]
  port: ${port}
  readiness: { interval: 1s, timeout: 5m }
  retries: { max: 1, backoff: 10s }
${extra}`;

/** Each event as it was recorded (repeats included): `Reason message`. */
const events = (w: ReconcilerWorld) => w.logged.filter((l) => l.startsWith('EVENT ')).map((l) => l.replace(/^EVENT \w+ /, ''));

/** Lets real time pass (the stand-in streams in real milliseconds) along with simulated time, until the Service is Ready. */
async function readyInRealTime(w: ReconcilerWorld, realMsMax = 10_000) {
  const until = Date.now() + realMsMax;
  while (w.status('Service/ol')?.phase !== 'Ready' && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 20));
    await w.advance(250);
  }
  return w.status('Service/ol');
}

describe('an Ollama Service and its model', () => {
  it('does not pull a model the server has (a name without a tag is :latest)', async () => {
    const { world, ollama } = await setUp({ models: ['llama3.2:latest'] });
    await world.apply(service(ollama.port, 'llama3.2'));
    const st = await world.until('Service/ol', 'Ready');
    expect(st.endpoint).toMatchObject({ scheme: 'http', host: '127.0.0.1', port: ollama.port });
    expect(ollama.pulls).toEqual([]);
    expect(events(world).filter((e) => /Pull/.test(e))).toEqual([]);
  });

  it('pulls a missing model, and is Ready only once the pull succeeded', async () => {
    const { world, ollama } = await setUp({ models: [], pullMs: 1_500, pullSteps: 20 });
    await world.apply(service(ollama.port, 'llama3.2:1b'));
    await world.advance(2_000);
    // The pull has begun and streams in real time: the Service waits for it, not Ready, no endpoint.
    while (ollama.pulls.length === 0) await world.advance(250);
    expect(ollama.models).toEqual([]);
    const pulling = world.status('Service/ol')!;
    expect(pulling.phase).toBe('Starting');
    expect(pulling.endpoint).toBeUndefined();
    expect(pulling.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'False' });
    expect(events(world)).toContain(`PullingModel model llama3.2:1b is not on service ol at 127.0.0.1:${ollama.port}; pulling it (0 other model(s) there)`);

    expect(await readyInRealTime(world)).toMatchObject({ phase: 'Ready', attempts: 1 });
    expect(ollama.models).toEqual(['llama3.2:1b']);
    expect(ollama.pulls).toEqual(['llama3.2:1b']);
    // In order: checked, pulled (telling progress), then Ready.
    const reasons = events(world).map((e) => e.split(' ')[0]);
    expect(reasons.slice(reasons.indexOf('CheckingReadiness'))).toEqual([
      'CheckingReadiness',
      'PullingModel',
      'PullingModel',
      'PullingModel',
      'PullingModel',
      'ModelPulled',
      'Ready',
    ]);
  });

  it('fails the start when the library lacks the model, naming it, the server error and what to check, without pointless retries', async () => {
    const { world, ollama } = await setUp({ models: [], unpullable: ['llama3.2:nosuch'] });
    await world.apply(service(ollama.port, 'llama3.2:nosuch'));
    await world.advance(2_000);
    const st = world.status('Service/ol')!;
    // An unknown name stays unknown: the first attempt is the last.
    expect(st).toMatchObject({ phase: 'Failed', attempts: 1 });
    expect(st.message).toMatch(
      /^ModelPullFailed: could not pull model llama3\.2:nosuch into service ol at 127\.0\.0\.1:\d+: HTTP 500: pull model manifest: file does not exist; check spec\.model against the Ollama library \(https:\/\/ollama\.com\/library; .*can reach its registry .*`ollama pull llama3\.2:nosuch`$/,
    );
    expect(st.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'False', reason: 'ModelPullFailed' });
    await world.advance(12_000);
    expect(world.executor.log).toEqual(['launch service.ol.g1.a1.service', 'stop service.ol.g1.a1.service', 'forget service.ol.g1.a1.service']);
    expect(ollama.models).toEqual([]);
  });

  it('writes a handful of progress events for a pull of a thousand progress lines', async () => {
    const { world, ollama } = await setUp({ models: [], pullMs: 300, pullSteps: 1_000 });
    await world.apply(service(ollama.port, 'llama3.2:1b'));
    expect((await readyInRealTime(world))?.phase).toBe('Ready');
    const pulling = events(world).filter((e) => e.startsWith('PullingModel') || e.startsWith('ModelPulled'));
    expect(pulling).toEqual([
      expect.stringMatching(/^PullingModel model llama3\.2:1b is not on /),
      'PullingModel pulling llama3.2:1b: 25% of 1.3 GB',
      'PullingModel pulling llama3.2:1b: 50% of 1.3 GB',
      'PullingModel pulling llama3.2:1b: 75% of 1.3 GB',
      expect.stringMatching(/^ModelPulled pulled model llama3\.2:1b \(1\.3 GB\) in /),
    ]);
  });

  it('pulls into an Ollama at spec.endpoint too, which it does not start', async () => {
    const { world, ollama } = await setUp({ models: ['qwen2.5:0.5b'] });
    await world.apply(`apiVersion: aifb.io/v1alpha1
kind: Service
metadata:
  name: ol
spec:
  type: ollama
  model: llama3.2:1b
  endpoint: { host: 127.0.0.1, port: ${ollama.port} }
  readiness: { interval: 1s }
`);
    expect((await readyInRealTime(world))?.phase).toBe('Ready');
    expect(ollama.pulls).toEqual(['llama3.2:1b']);
    expect(ollama.models).toEqual(['qwen2.5:0.5b', 'llama3.2:1b']);
    expect(world.executor.log).toEqual([]);
  });

  it('gives a pull no more than spec.readiness.timeout, then retries it as any start that timed out', async () => {
    const { world, ollama } = await setUp({ models: [], pullMs: 20_000, pullSteps: 1_000 });
    await world.apply(service(ollama.port, 'llama3.2:1b').replace('timeout: 5m', 'timeout: 30s'));
    while (ollama.pulls.length === 0) await world.advance(250);
    // Some bytes arrive (in real time) before the deadline passes (in simulated time).
    await new Promise((r) => setTimeout(r, 200));
    await world.advance(31_000);
    const st = world.status('Service/ol')!;
    expect(st).toMatchObject({ phase: 'Retrying', attempts: 1 });
    expect(st.message).toMatch(
      /^ReadinessTimeout: service ol at 127\.0\.0\.1:\d+: pulling model llama3\.2:1b \(\d+% of 1\.3 GB done\) did not finish within spec\.readiness\.timeout \(30s\), which covers both the server answering and the model pull; raise spec\.readiness\.timeout/,
    );
    expect(ollama.models).toEqual([]);
    // After the backoff the next attempt asks for the model again (a real Ollama resumes its partial download).
    await world.advance(12_000);
    expect(world.executor.log.filter((l) => l.startsWith('launch'))).toEqual(['launch service.ol.g1.a1.service', 'launch service.ol.g1.a2.service']);
    expect(ollama.pulls).toEqual(['llama3.2:1b', 'llama3.2:1b']);
  });
});
