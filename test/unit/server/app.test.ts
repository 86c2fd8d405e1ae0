import { afterEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { ErrorBody, ProblemListBody, ResourceListBody, ResourceViewSchema, buildApp } from '../../../controller/server/app.js';
import type { ResourceSource } from '../../../controller/server/view.js';
import { FakeSource, views } from '../cli/fixtures.js';

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

function make(source: ResourceSource = new FakeSource(views()), extra: Partial<Parameters<typeof buildApp>[0]> = {}) {
  app = buildApp({ source, ...extra });
  return app;
}

describe('status API', () => {
  it('GET /healthz answers ok', async () => {
    const res = await make().inject({ method: 'GET', url: '/healthz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok' });
  });

  it('GET /healthz answers 503 with the detail when the controller is unhealthy', async () => {
    const res = await make(undefined, { health: () => ({ ok: false, detail: { watcher: 'stopped' } }) }).inject({ method: 'GET', url: '/healthz' });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toEqual({ status: 'unhealthy', detail: { watcher: 'stopped' } });
  });

  it('lists one kind, sorted by name, as a typed List', async () => {
    const res = await make().inject({ method: 'GET', url: '/api/v1/benchmarks' });
    expect(res.statusCode).toBe(200);
    const body = ResourceListBody.parse(res.json());
    expect(body.apiVersion).toBe('aifb.io/v1alpha1');
    expect(body.kind).toBe('BenchmarkList');
    expect(body.items.map((v) => v.metadata.name)).toEqual(['broken', 'fs', 'vllm-load']);
    // Nothing is dropped on the way out: the status' extra fields survive.
    expect(res.json().items[2]).toEqual(views()[0]);
  });

  it('lists services and monitoring stacks', async () => {
    const a = make();
    expect((await a.inject({ url: '/api/v1/services' })).json().items.map((v: { metadata: { name: string } }) => v.metadata.name)).toEqual(['vllm']);
    expect((await a.inject({ url: '/api/v1/monitoringstacks' })).json().kind).toBe('MonitoringStackList');
  });

  it('gets one resource by name', async () => {
    const res = await make().inject({ method: 'GET', url: '/api/v1/benchmarks/vllm-load' });
    expect(res.statusCode).toBe(200);
    expect(ResourceViewSchema.parse(res.json()).metadata.name).toBe('vllm-load');
    expect(res.json()).toEqual(views()[0]);
  });

  it('answers 404 naming the resource when it does not exist', async () => {
    const res = await make().inject({ method: 'GET', url: '/api/v1/benchmarks/x' });
    expect(res.statusCode).toBe(404);
    expect(ErrorBody.parse(res.json())).toEqual({ error: 'NotFound', message: 'Benchmark "x" not found' });
  });

  it('answers 404 naming the valid types for an unknown plural', async () => {
    const a = make();
    for (const url of ['/api/v1/pods', '/api/v1/pods/x']) {
      const res = await a.inject({ method: 'GET', url });
      expect(res.statusCode).toBe(404);
      expect(res.json().message).toBe('unknown resource type "pods"; use one of services, benchmarks, monitoringstacks');
    }
  });

  it('answers 404 with the served routes for an unknown path', async () => {
    const res = await make().inject({ method: 'GET', url: '/nope' });
    expect(res.statusCode).toBe(404);
    expect(res.json().message).toContain('/api/v1/problems');
  });

  it('GET /api/v1/problems lists the files the controller could not read', async () => {
    const problems = [{ file: '/r/bad.yaml', message: 'line 2, column 3: bad indentation' }];
    const res = await make(undefined, { problems: () => problems }).inject({ method: 'GET', url: '/api/v1/problems' });
    expect(res.statusCode).toBe(200);
    expect(ProblemListBody.parse(res.json()).items).toEqual(problems);
  });

  it('hides internals when the source throws', async () => {
    const failing: ResourceSource = {
      list: async () => {
        throw new Error('SQLITE_CORRUPT at /secret/path/db.sqlite');
      },
      get: async () => undefined,
    };
    const res = await make(failing).inject({ method: 'GET', url: '/api/v1/benchmarks' });
    expect(res.statusCode).toBe(500);
    expect(res.json().error).toBe('InternalServerError');
    expect(res.body).not.toContain('SQLITE_CORRUPT');
    expect(res.body).not.toContain('/secret/path');
    expect(res.body).not.toMatch(/at .*\.ts:\d+/);
  });
});
