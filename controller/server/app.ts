// The status API as a fastify instance that does not listen: health, resource
// lists and single resources, and the files the controller could not read.
import Fastify, { type FastifyError, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { z } from 'zod';
import { API_VERSION, KINDS, Status, type Kind } from '../api/schemas.js';
import type { FileError } from '../store/parse.js';
import { tokenMatches } from './auth.js';
import { registerPageRoutes, type PageOptions } from './page-routes.js';
import { tableRows } from './table.js';
import { pluralOf, type ResourceSource, type ResourceView } from './view.js';

export interface AppOptions extends PageOptions {
  source: ResourceSource;
  health?: () => { ok: boolean; detail?: unknown };
  problems?: () => FileError[];
  /** Passed to fastify; off by default so tests stay quiet. */
  logger?: FastifyServerOptions['logger'];
  /**
   * The bearer token: wanted by every route but /healthz when `reads` is set
   * (the API is reachable from other hosts), and by any route that is not a
   * read in every case. `hint` says where a caller finds it (never the token).
   */
  auth?: { token: string; reads: boolean; hint: string };
  /** What /metrics serves (Prometheus text); without it the route answers 404. */
  metrics?: { text(): Promise<string>; contentType: string };
  /** Serve HTTPS with this key and certificate (PEM). */
  https?: { key: Buffer; cert: Buffer };
}

/** Only the canonical plurals are API paths; short names are a CLI convenience. */
const KIND_BY_PLURAL: Record<string, Kind> = Object.fromEntries(KINDS.map((k) => [pluralOf(k), k]));
const VALID_PLURALS = Object.keys(KIND_BY_PLURAL);

// Route schemas: zod validates requests and documents responses; the types come from them.
export const ErrorBody = z.object({ error: z.string(), message: z.string() });
export const HealthBody = z.object({ status: z.enum(['ok', 'unhealthy']), detail: z.unknown().optional() });
export const ResourceEventSchema = z.object({
  time: z.string(),
  type: z.enum(['Normal', 'Warning']),
  reason: z.string(),
  message: z.string(),
});
export const ResourceViewSchema = z.object({
  apiVersion: z.string(),
  kind: z.string(),
  metadata: z
    .object({
      name: z.string(),
      file: z.string(),
      index: z.number(),
      uid: z.string().optional(),
      generation: z.number().optional(),
      creationTimestamp: z.string().optional(),
      labels: z.record(z.string(), z.string()).optional(),
    })
    .passthrough(),
  spec: z.unknown(),
  status: Status,
  events: z.array(ResourceEventSchema),
});
export const ResourceListBody = z.object({ apiVersion: z.string(), kind: z.string(), items: z.array(ResourceViewSchema) });
export const ProblemListBody = z.object({
  apiVersion: z.string(),
  kind: z.literal('ProblemList'),
  items: z.array(z.object({ file: z.string(), message: z.string() })),
});
export const TableBody = z.array(z.record(z.string(), z.union([z.string(), z.number(), z.null()])));
const ListParams = z.object({ plural: z.string() });
const GetParams = z.object({ plural: z.string(), name: z.string() });

function notFoundKind(plural: string) {
  return { error: 'NotFound', message: `unknown resource type "${plural}"; use one of ${VALID_PLURALS.join(', ')}` };
}

const byName = (a: ResourceView, b: ResourceView) => a.metadata.name.localeCompare(b.metadata.name);

export function buildApp(opts: AppOptions): FastifyInstance {
  const app = (opts.https ? Fastify({ logger: opts.logger ?? false, https: opts.https }) : Fastify({ logger: opts.logger ?? false })) as unknown as FastifyInstance;

  const auth = opts.auth;
  if (auth) {
    app.addHook('onRequest', async (req, reply) => {
      const read = req.method === 'GET' || req.method === 'HEAD';
      if (read && (!auth.reads || req.url.split('?')[0] === '/healthz')) return;
      if (tokenMatches(req.headers.authorization, auth.token)) return;
      return reply.code(401).header('www-authenticate', 'Bearer').send({ error: 'Unauthorized', message: auth.hint });
    });
  }

  // zod schemas in, plain JSON out: request parts are parsed by the same schema that types them.
  app.setValidatorCompiler(({ schema }) => (data) => {
    const parsed = (schema as z.ZodType).safeParse(data);
    return parsed.success ? { value: parsed.data } : { error: new Error(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')) };
  });
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));

  app.setErrorHandler((err: FastifyError, req, reply) => {
    const status = err.statusCode ?? 500;
    if (err.validation || status === 400) {
      return reply.code(400).send({ error: 'BadRequest', message: err.message });
    }
    if (status < 500) return reply.code(status).send({ error: err.code ?? 'Error', message: err.message });
    // The caller gets no internals; the log keeps the stack for whoever runs the controller.
    req.log.error({ err }, 'Request failed');
    return reply.code(500).send({ error: 'InternalServerError', message: 'the controller failed to answer this request; see the controller log' });
  });

  app.setNotFoundHandler((req, reply) => {
    reply.code(404).send({
      error: 'NotFound',
      message: `no route ${req.method} ${req.url}; the API serves / (a web page), /healthz, /metrics, /api/v1/{${VALID_PLURALS.join(',')}}[/NAME], /api/v1/table/{${VALID_PLURALS.join(',')}}, /api/v1/runs, /api/v1/reports/BENCHMARK/RUN/FORMAT and /api/v1/problems`,
    });
  });

  app.get('/healthz', { schema: { response: { 200: HealthBody, 503: HealthBody } } }, async (_req, reply) => {
    const h = opts.health?.() ?? { ok: true };
    const body: z.infer<typeof HealthBody> = { status: h.ok ? 'ok' : 'unhealthy' };
    if (h.detail !== undefined) body.detail = h.detail;
    return reply.code(h.ok ? 200 : 503).send(body);
  });

  app.get('/api/v1/problems', { schema: { response: { 200: ProblemListBody } } }, async () => {
    const body: z.infer<typeof ProblemListBody> = { apiVersion: API_VERSION, kind: 'ProblemList', items: opts.problems?.() ?? [] };
    return body;
  });

  const metrics = opts.metrics;
  if (metrics) {
    app.get('/metrics', async (_req, reply) => reply.header('content-type', metrics.contentType).send(await metrics.text()));
  }

  // For Grafana's JSON/Infinity datasource: one flat object per resource.
  app.get<{ Params: z.infer<typeof ListParams> }>(
    '/api/v1/table/:plural',
    { schema: { params: ListParams, response: { 200: TableBody, 404: ErrorBody } } },
    async (req, reply) => {
      const kind = KIND_BY_PLURAL[req.params.plural];
      if (!kind) return reply.code(404).send(notFoundKind(req.params.plural));
      return tableRows(kind, [...(await opts.source.list(kind))].sort(byName));
    },
  );

  /** Per kind: the serialized list and the source's version it was built at. */
  const lists = new Map<Kind, { version: number; body: Buffer }>();
  app.get<{ Params: z.infer<typeof ListParams> }>(
    '/api/v1/:plural',
    { schema: { params: ListParams, response: { 200: ResourceListBody, 404: ErrorBody } } },
    async (req, reply) => {
      const kind = KIND_BY_PLURAL[req.params.plural];
      if (!kind) return reply.code(404).send(notFoundKind(req.params.plural));
      const version = opts.source.version?.();
      const cached = lists.get(kind);
      if (version !== undefined && cached?.version === version) return reply.type('application/json; charset=utf-8').send(cached.body);
      const items = [...(await opts.source.list(kind))].sort(byName);
      const list = { apiVersion: API_VERSION, kind: `${kind}List`, items };
      if (version === undefined) return list;
      const body = Buffer.from(JSON.stringify(list));
      lists.set(kind, { version, body });
      return reply.type('application/json; charset=utf-8').send(body);
    },
  );

  app.get<{ Params: z.infer<typeof GetParams> }>(
    '/api/v1/:plural/:name',
    { schema: { params: GetParams, response: { 200: ResourceViewSchema, 404: ErrorBody } } },
    async (req, reply) => {
      const kind = KIND_BY_PLURAL[req.params.plural];
      if (!kind) return reply.code(404).send(notFoundKind(req.params.plural));
      const view = await opts.source.get(kind, req.params.name);
      if (!view) return reply.code(404).send({ error: 'NotFound', message: `${kind} "${req.params.name}" not found` });
      return view;
    },
  );

  registerPageRoutes(app, opts);

  return app;
}
