// Bad input against the Weaviate stand-in: each failure says what is wrong and
// which setting fixes it, and the ones retrying cannot fix are ConfigErrors.
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../../clients/client.js';
import type { WeaviateBenchClient } from '../../../../clients/weaviate/client.js';
import { weaviate } from '../../../../clients/weaviate/index.js';
import { startFakeWeaviate, type FakeWeaviate } from '../../../fakes/weaviate-server.js';
import { closedPort, context, create, KEY_ENV, serviceAt, workload } from './fixtures.js';

let fake: FakeWeaviate | undefined;
let open: WeaviateBenchClient[] = [];
afterEach(async () => {
  for (const c of open) await c.teardown().catch(() => {});
  open = [];
  await fake?.close();
  fake = undefined;
  delete process.env[KEY_ENV];
});

async function setupError(c: WeaviateBenchClient): Promise<Error> {
  open.push(c);
  const e = await c.setup().then(
    () => undefined,
    (err: unknown) => err as Error,
  );
  if (!e) throw new Error('setup succeeded');
  return e;
}

describe('weaviate client: bad input', () => {
  it('an unreachable host: connection refused, and what to check', async () => {
    const port = await closedPort();
    const e = await setupError(await create(workload(), context({ scheme: 'http', host: '127.0.0.1', port })));
    expect(e).not.toBeInstanceOf(ConfigError);
    expect(e.message).toBe(`connection refused by Weaviate at http://127.0.0.1:${port} (ECONNREFUSED); check that the Service is running and its host and port are right`);
  });

  it('a class that holds vectors of another dimension: the dimension to set, as a ConfigError on workload.dimension', async () => {
    fake = await startFakeWeaviate();
    const rest = (path: string, body: unknown) => fetch(`${fake!.url}/v1${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    await rest('/schema', { class: 'Theirs', vectorizer: 'none', vectorIndexConfig: { distance: 'l2-squared' } });
    await rest('/batch/objects', { objects: [{ class: 'Theirs', id: '5a7c1d4e-0000-4000-8000-000000000001', vector: [1, 2, 3, 4, 5, 6, 7, 8] }] });
    const e = await setupError(await create(workload({ className: 'Theirs', dimension: 16 }), context(serviceAt(fake.url))));
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as ConfigError).problems).toEqual([
      {
        path: 'workload.dimension',
        message: `class "Theirs" at ${fake.url} holds vectors of length 8; workload.dimension is 16: set dimension to 8, or set workload.className to another class (or delete class Theirs)`,
      },
    ]);
    // A class found there is not aifb's to delete.
    await open.pop()!.teardown();
    expect(fake.counts()).toEqual({ Theirs: 1 });
  });

  it('a class measured with another distance: the metric to set', async () => {
    fake = await startFakeWeaviate();
    await fetch(`${fake.url}/v1/schema`, { method: 'POST', body: JSON.stringify({ class: 'Cos', vectorIndexConfig: { distance: 'cosine' } }) });
    const e = await setupError(await create(workload({ className: 'Cos', metric: 'l2' }), context(serviceAt(fake.url))));
    expect((e as ConfigError).problems).toEqual([{ path: 'workload.metric', message: expect.stringMatching(/^class "Cos" at .* measures cosine; metric l2 is l2-squared in Weaviate: set metric to match/) }]);
  });

  it('a wrong API key, and none where one is wanted: HTTP 401 named, with where the key comes from', async () => {
    fake = await startFakeWeaviate({ apiKey: 'right-key' });
    process.env[KEY_ENV] = 'wrong-key';
    const wrong = await setupError(await create(workload(), context(serviceAt(fake.url, true))));
    expect(wrong).toBeInstanceOf(ConfigError);
    expect(wrong.message).toBe(
      `service.credentials.token: Weaviate at ${fake.url} refused the API key (HTTP 401: unauthorized: invalid api key); check the key the Service's credentials.token points to (environment variable ${KEY_ENV})`,
    );
    expect(wrong.message).not.toContain('wrong-key');
    const none = await setupError(await create(workload(), context(serviceAt(fake.url))));
    expect(none.message).toMatch(/^service\.credentials\.token: Weaviate at .* wants an API key \(HTTP 401: anonymous access not enabled.*\); give the Service credentials\.token/);
    // The right key is sent as a Bearer token, everywhere.
    process.env[KEY_ENV] = 'right-key';
    const ok = await create(workload({ operationMix: { search: 1, insert: 1 } }), context(serviceAt(fake.url, true)));
    open.push(ok);
    await ok.setup();
    await ok.beforePoint({ parameters: { ef: 50 } });
    await ok.execute({ name: 'insert', seq: 0 });
    expect((await ok.execute({ name: 'search', seq: 1 })).metrics?.recall).toEqual([1]);
    expect(fake.counts()).toEqual({ AifbBench: 301 });
  });

  it('settings that cannot work: every problem at once, before any connection', async () => {
    await expect(weaviate.create(workload({ operationMix: { filteredSearch: 1, scan: 1 } }), context(undefined))).rejects.toMatchObject({
      problems: [
        { path: 'workload.operationMix', message: expect.stringMatching(/unknown operation\(s\) scan/) },
        { path: 'workload.filter', message: expect.stringMatching(/filteredSearch needs labels/) },
        { path: 'serviceRef', message: expect.stringMatching(/needs a service/) },
      ],
    });
    expect(weaviate.schema.safeParse({ type: 'weaviate', className: 'lower' }).success).toBe(false);
  });
});
