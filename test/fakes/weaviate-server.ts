// A FAKE Weaviate for tests: a STAND-IN, because no Weaviate server can run
// here (it ships as a Go binary in a container image). It follows Weaviate's
// REST and GraphQL API (v1, as weaviate-ts-client 2.x speaks it) for what aifb
// uses: readiness and meta, class create/get/delete, batch import, object
// merge/replace/delete, batch delete by filter, and a GraphQL Get with
// nearVector, limit and a simple where filter. Search is exact (brute force),
// so recall against it is 1.0: it checks aifb's protocol and bookkeeping, not
// an HNSW index. Answers carry Weaviate's own error shapes and messages.
// Also as Weaviate does: filters on path ["id"] match the object's UUID, and
// with `apiKey` set (AUTHENTICATION_APIKEY_ENABLED) every request but the
// .well-known probes needs `Authorization: Bearer <key>`, else 401. A class
// keeps the definition it was created with: GET /v1/schema/{class} returns it
// and PUT /v1/schema/{class} changes its mutable vectorIndexConfig (ef...),
// refusing, as Weaviate does, a change of distance.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { serveStandIn, type StandInServer } from './stand-in-http.js';

export interface FakeWeaviateOptions {
  port?: number;
  host?: string;
  /** Version /v1/meta reports; the client picks its object paths by it. */
  version?: string;
  /** Require this API key (Weaviate's AUTHENTICATION_APIKEY_ALLOWED_KEYS), sent as a Bearer token. */
  apiKey?: string;
}

type Distance = 'l2-squared' | 'cosine' | 'dot';

interface WeaviateObject {
  id: string;
  vector: number[];
  properties: Record<string, unknown>;
}

interface WeaviateClass {
  name: string;
  distance: Distance;
  /** The class as created (and updated): what GET /v1/schema/{class} answers. */
  spec: Record<string, unknown>;
  objects: Map<string, WeaviateObject>;
  /** Set by the first vector stored: every later one must match it. */
  dimension?: number;
}

export interface FakeWeaviate extends StandInServer {
  /** Class name -> number of objects, to check what a client left behind. */
  counts(): Record<string, number>;
  /** GraphQL searches answered. */
  readonly searches: number;
  /** Of those, the ones with a `where` filter. */
  readonly filteredSearches: number;
  /** The class's definition as the server holds it now. */
  classSpec(name: string): Record<string, unknown> | undefined;
}

function sendJson(res: ServerResponse, status: number, doc: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(doc));
}

/** Weaviate's REST error shape. */
const restError = (res: ServerResponse, status: number, message: string) => sendJson(res, status, { error: [{ message }] });

async function readJson(req: IncomingMessage): Promise<unknown> {
  const parts: Buffer[] = [];
  for await (const c of req) parts.push(c as Buffer);
  const text = Buffer.concat(parts).toString('utf8');
  return text === '' ? {} : JSON.parse(text);
}

function distanceOf(kind: Distance, a: number[], b: number[]): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  let l2 = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
    l2 += (a[i] - b[i]) ** 2;
  }
  if (kind === 'l2-squared') return l2;
  if (kind === 'dot') return -dot;
  return 1 - dot / (Math.sqrt(na) * Math.sqrt(nb) || 1);
}

/** The `where` filters the stand-in understands: Equal on one property, and And of those. */
interface Where {
  operator: string;
  path?: string[];
  valueInt?: number;
  valueNumber?: number;
  valueText?: string;
  valueString?: string;
  valueBoolean?: boolean;
  operands?: Where[];
}

function matches(o: WeaviateObject, w: Where | undefined): boolean {
  if (!w) return true;
  if (w.operator === 'And') return (w.operands ?? []).every((x) => matches(o, x));
  if (w.operator === 'Or') return (w.operands ?? []).some((x) => matches(o, x));
  const key = w.path?.[0];
  if (w.operator === 'Like' && key === 'id' && w.valueText === '*') return true;
  if (w.operator !== 'Equal' || !key) throw new Error(`the stand-in does not support where operator ${w.operator} on ${key}`);
  const want = w.valueInt ?? w.valueNumber ?? w.valueText ?? w.valueString ?? w.valueBoolean;
  // Weaviate filters on the object's UUID by the path ["id"].
  return (key === 'id' ? o.id : o.properties[key]) === want;
}

/**
 * Reads the GraphQL text weaviate-ts-client writes for a Get:
 * `{Get{Class(where:{...},nearVector:{vector:[...]},limit:N){_additional { id distance }}}}`.
 * The argument values are GraphQL input objects; turned into JSON by quoting their keys and enum values.
 */
function parseGet(query: string): { className: string; vector?: number[]; limit?: number; where?: Where } {
  const m = /^\s*\{\s*Get\s*\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:\((.*)\))?\s*\{/s.exec(query);
  if (!m) throw new Error('the stand-in answers only {Get{Class(...){...}}} queries');
  const args = m[2] ? graphqlArgs(m[2]) : {};
  const near = args.nearVector as { vector?: number[] } | undefined;
  return { className: m[1], vector: near?.vector, limit: args.limit as number | undefined, where: args.where as Where | undefined };
}

function graphqlArgs(text: string): Record<string, unknown> {
  // Keys and bare enum values (Equal, And) get quotes; strings and numbers are already JSON.
  const json = `{${text}}`
    .replace(/([{,\s])([A-Za-z_][A-Za-z0-9_]*)\s*:/g, '$1"$2":')
    .replace(/:\s*([A-Z][A-Za-z]*)\s*([,}])/g, ':"$1"$2');
  return JSON.parse(json) as Record<string, unknown>;
}

export async function startFakeWeaviate(options: FakeWeaviateOptions = {}): Promise<FakeWeaviate> {
  const { port = 0, host = '127.0.0.1', version = '1.25.0', apiKey } = options;
  const classes = new Map<string, WeaviateClass>();
  let searches = 0;
  let filteredSearches = 0;

  function store(c: WeaviateClass, o: WeaviateObject): string | undefined {
    if (c.dimension === undefined) c.dimension = o.vector.length;
    else if (o.vector.length !== c.dimension) {
      return `insert to vector index: new node has a vector with length ${o.vector.length}. Existing nodes have vectors with length ${c.dimension}`;
    }
    c.objects.set(o.id, o);
    return undefined;
  }

  function graphql(body: { query?: string }, res: ServerResponse): void {
    let q: ReturnType<typeof parseGet>;
    try {
      q = parseGet(body.query ?? '');
    } catch (e) {
      return sendJson(res, 200, { errors: [{ message: (e as Error).message }] });
    }
    const c = classes.get(q.className);
    if (!c) return sendJson(res, 200, { errors: [{ message: `Cannot query field "${q.className}" on type "GetObjectsObj".` }] });
    if (q.vector && c.dimension !== undefined && q.vector.length !== c.dimension) {
      return sendJson(res, 200, {
        data: { Get: { [q.className]: null } },
        errors: [{ message: `explorer: get class: vector search: object vector search at index ${q.className.toLowerCase()}: shard ${q.className.toLowerCase()}_0: vector search: knn search: distance between entrypoint and query node: vector lengths don't match: ${c.dimension} vs ${q.vector.length}` }],
      });
    }
    searches++;
    if (q.where) filteredSearches++;
    let found: WeaviateObject[];
    try {
      found = [...c.objects.values()].filter((o) => matches(o, q.where));
    } catch (e) {
      return sendJson(res, 200, { errors: [{ message: (e as Error).message }] });
    }
    const scored = found.map((o) => ({ o, d: q.vector ? distanceOf(c.distance, q.vector, o.vector) : 0 }));
    if (q.vector) scored.sort((a, b) => a.d - b.d);
    const hits = scored.slice(0, q.limit ?? 10).map(({ o, d }) => ({ ...o.properties, _additional: { id: o.id, distance: d } }));
    sendJson(res, 200, { data: { Get: { [q.className]: hits } } });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    const method = req.method ?? 'GET';
    if (method === 'GET' && (path === '/v1/.well-known/ready' || path === '/v1/.well-known/live')) return void res.writeHead(200).end();
    if (apiKey !== undefined) {
      // Weaviate's answers when API-key authentication is on and anonymous access is off.
      const auth = req.headers.authorization;
      if (!auth) return sendJson(res, 401, { code: 401, message: 'anonymous access not enabled, please provide an auth scheme such as OIDC' });
      if (auth !== `Bearer ${apiKey}`) return sendJson(res, 401, { code: 401, message: 'unauthorized: invalid api key' });
    }
    if (method === 'GET' && path === '/v1/meta') return sendJson(res, 200, { hostname: `http://[::]:${server.port}`, version, modules: {} });
    const body = method === 'GET' || method === 'DELETE' && !path.startsWith('/v1/batch') ? {} : await readJson(req);

    if (path === '/v1/schema' && method === 'POST') {
      const spec = body as { class?: string; vectorizer?: string; vectorIndexConfig?: { distance?: Distance } };
      if (!spec.class) return restError(res, 422, 'class name is required');
      if (classes.has(spec.class)) return restError(res, 422, `class name "${spec.class}" already exists`);
      const distance = spec.vectorIndexConfig?.distance ?? 'cosine';
      if (!['l2-squared', 'cosine', 'dot'].includes(distance)) return restError(res, 422, `unrecognized or unsupported distance metric "${distance}"`);
      const full = { ...spec, vectorizer: spec.vectorizer ?? 'none', vectorIndexType: 'hnsw', vectorIndexConfig: { ...spec.vectorIndexConfig, distance } };
      classes.set(spec.class, { name: spec.class, distance, spec: full, objects: new Map() });
      return sendJson(res, 200, spec);
    }
    const schemaPath = /^\/v1\/schema\/([^/]+)$/.exec(path);
    if (schemaPath) {
      const c = classes.get(schemaPath[1]);
      if (method === 'DELETE') {
        classes.delete(schemaPath[1]);
        return void res.writeHead(200).end();
      }
      if (!c) return void res.writeHead(404).end();
      if (method === 'PUT') {
        const spec = body as { class?: string; vectorIndexConfig?: { distance?: Distance } };
        if (spec.class !== c.name) return restError(res, 422, `class name is immutable: attempted change from "${c.name}" to "${spec.class}"`);
        const distance = spec.vectorIndexConfig?.distance ?? c.distance;
        if (distance !== c.distance) return restError(res, 422, `vector index config: distance is immutable: attempted change from "${c.distance}" to "${distance}"`);
        c.spec = { ...c.spec, ...spec, vectorIndexConfig: { ...(c.spec.vectorIndexConfig as object), ...spec.vectorIndexConfig, distance } };
        return sendJson(res, 200, c.spec);
      }
      return sendJson(res, 200, c.spec);
    }

    if (path === '/v1/batch/objects' && method === 'POST') {
      const objects = ((body as { objects?: unknown[] }).objects ?? []) as Array<{ class: string; id: string; vector?: number[]; properties?: Record<string, unknown> }>;
      const results = objects.map((o) => {
        const c = classes.get(o.class);
        const error = !c
          ? `class "${o.class}" not found in schema`
          : !o.vector
            ? 'the stand-in stores only objects that come with a vector (vectorizer none)'
            : store(c, { id: o.id, vector: o.vector, properties: o.properties ?? {} });
        return { class: o.class, id: o.id, properties: o.properties, result: error ? { errors: { error: [{ message: error }] } } : {} };
      });
      return sendJson(res, 200, results);
    }
    if (path === '/v1/batch/objects' && method === 'DELETE') {
      const match = (body as { match?: { class: string; where?: Where } }).match;
      const c = match && classes.get(match.class);
      if (!c) return restError(res, 422, `class "${match?.class}" not found in schema`);
      const gone = [...c.objects.values()].filter((o) => matches(o, match.where));
      for (const o of gone) c.objects.delete(o.id);
      return sendJson(res, 200, { match, results: { matches: gone.length, successful: gone.length, failed: 0, limit: 10000 } });
    }

    const objectPath = /^\/v1\/objects\/(?:([^/]+)\/)?([^/]+)$/.exec(path);
    if (objectPath) {
      const given = body as { class?: string; vector?: number[]; properties?: Record<string, unknown> };
      const className = objectPath[1] ?? given.class;
      const c = className ? classes.get(className) : undefined;
      const id = objectPath[2];
      const existing = c?.objects.get(id);
      if (!c || !existing) return void res.writeHead(404).end();
      if (method === 'DELETE') {
        c.objects.delete(id);
        return void res.writeHead(204).end();
      }
      if (method === 'PATCH') {
        const error = store(c, { id, vector: given.vector ?? existing.vector, properties: { ...existing.properties, ...given.properties } });
        return error ? restError(res, 422, error) : void res.writeHead(204).end();
      }
      if (method === 'PUT') {
        const error = store(c, { id, vector: given.vector ?? existing.vector, properties: given.properties ?? {} });
        return error ? restError(res, 422, error) : sendJson(res, 200, { class: c.name, id, properties: given.properties ?? {} });
      }
      if (method === 'GET') return sendJson(res, 200, { class: c.name, id, properties: existing.properties, vector: existing.vector });
    }

    if (path === '/v1/graphql' && method === 'POST') return graphql(body as { query?: string }, res);
    restError(res, 404, `the stand-in does not serve ${method} ${path}`);
  }

  const server = await serveStandIn(handle, (res, message) => restError(res, 500, message), port, host);
  return {
    ...server,
    counts: () => Object.fromEntries([...classes.values()].map((c) => [c.name, c.objects.size])),
    get searches() {
      return searches;
    },
    get filteredSearches() {
      return filteredSearches;
    },
    classSpec: (name) => classes.get(name)?.spec,
  };
}
