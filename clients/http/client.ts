// HTTP client for any service with an HTTP endpoint: requests built once in
// setup, sent over a pooled keep-alive connection set (wire.ts), time to first
// byte and response bytes measured per request.
import type { Connection } from '../../api/connection.js';
import { ConfigError, type BenchmarkClient, type ConfigProblem, type Operation, type OperationMix, type OperationResult } from '../client.js';
import { errorText, excerpt, hostHeaderOf, originOf, socketTargetOf } from '../http-common.js';
import { STATUS_CLASSES, type HttpRequest, type HttpWorkload } from './schema.js';
import { ANY_STATUS, WireError, WirePool, wireProblem, wireRequest, type WireRequest } from './wire.js';

export interface HttpClientOptions {
  service?: Connection;
  /** Connections in the pool: one per request this rank can have in flight. */
  connections: number;
  /** The service's bearer token: sent as `authorization: Bearer ...` unless a request sets its own. */
  token?: string;
}

/** One request of the workload, checked and built once. */
interface Prepared {
  name: string;
  method: HttpRequest['method'] & string;
  path: string;
  headers: Record<string, string>;
  body: Buffer | undefined;
  /** ok[status] is 1 when the status counts as success. */
  ok: Uint8Array;
  expected: string;
}

type Expect = NonNullable<HttpRequest['expectStatus']>;

function statusTable(expect: Expect): Uint8Array {
  const ok = new Uint8Array(600);
  if (typeof expect === 'number') ok[expect] = 1;
  else if (Array.isArray(expect)) for (const s of expect) ok[s] = 1;
  else {
    const base = (STATUS_CLASSES.indexOf(expect) + 1) * 100;
    ok.fill(1, base, base + 100);
  }
  return ok;
}

function prepare(r: HttpRequest, name: string, token: string | undefined): Prepared {
  const method = r.method ?? 'GET';
  const headers = { ...r.headers };
  if (token !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === 'authorization')) headers.authorization = `Bearer ${token}`;
  let body: Buffer | undefined;
  if (typeof r.body === 'string') body = Buffer.from(r.body);
  else if (r.body !== undefined) {
    body = Buffer.from(JSON.stringify(r.body));
    if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json';
  }
  const expect = r.expectStatus ?? '2xx';
  return { name, method, path: r.path ?? '/', headers, body, ok: statusTable(expect), expected: Array.isArray(expect) ? expect.join(' or ') : String(expect) };
}

/** The requests of a workload, named and checked: every problem at once, before anything is opened. */
export function prepareRequests(w: HttpWorkload, token?: string): { requests: Prepared[]; weights: Record<string, number> } {
  const list: HttpRequest[] = w.requests ?? [{ method: w.method, path: w.path, headers: w.headers, body: w.body, expectStatus: w.expectStatus, weight: 1 }];
  const problems: ConfigProblem[] = [];
  const requests: Prepared[] = [];
  const weights: Record<string, number> = {};
  list.forEach((r, i) => {
    const name = r.name ?? (r.method ?? 'GET').toLowerCase();
    if (name in weights) {
      problems.push({ path: `workload.requests[${i}].name`, message: `another request is already named "${name}"; give each request its own name` });
      return;
    }
    if (r.body !== undefined && (r.method === undefined || r.method === 'GET' || r.method === 'HEAD')) {
      problems.push({ path: w.requests ? `workload.requests[${i}].body` : 'workload.body', message: `a ${r.method ?? 'GET'} request sends no body; set method to POST or PUT, or remove body` });
    }
    const wire = wireProblem({ path: r.path ?? '/', headers: r.headers ?? {} });
    if (wire) problems.push({ path: w.requests ? `workload.requests[${i}].${wire.field}` : `workload.${wire.field}`, message: wire.message });
    requests.push(prepare(r, name, token));
    weights[name] = r.weight;
  });
  if (problems.length > 0) throw new ConfigError(problems);
  return { requests, weights };
}

/**
 * One op = one request of the mix, named as in `requests` (or after its method).
 * Reports `ttfb` (until the response headers arrived, from the send) and `bytes`
 * (the response body). A status outside expectStatus fails the request with
 * the status and an excerpt of what the server said.
 */
export class HttpClient implements BenchmarkClient {
  readonly operations: readonly string[];
  readonly mix: OperationMix;
  readonly origin: string;
  /** `host:port` as the Host header carries it (IPv6 bracketed). */
  private readonly host: string;
  private readonly byName: Map<string, Prepared & { wire: WireRequest }>;
  private pool: WirePool | undefined;

  constructor(
    private readonly config: HttpWorkload,
    private readonly options: HttpClientOptions,
  ) {
    if (!options.service) {
      throw new ConfigError([{ path: 'serviceRef', message: 'an http workload needs a service: set spec.serviceRef (or an inline spec.service)' }]);
    }
    const { requests, weights } = prepareRequests(config, options.token);
    this.origin = originOf(options.service);
    this.host = hostHeaderOf(options.service);
    this.byName = new Map(requests.map((r) => [r.name, { ...r, wire: wireRequest({ method: r.method, path: r.path, host: this.host, headers: r.headers, body: r.body, close: config.keepAlive === 0 }) }]));
    this.operations = requests.map((r) => r.name);
    this.mix = { operations: weights };
  }

  async setup(): Promise<void> {
    this.pool = new WirePool({
      ...socketTargetOf(this.options.service!),
      connections: Math.max(1, this.options.connections),
      pipelining: this.config.pipelining,
      timeoutMs: this.config.timeout,
      idleMs: this.config.keepAlive,
    });
    try {
      // Any HTTP answer proves the service is reachable; only a network error stops the run here.
      const probe = wireRequest({ method: 'HEAD', path: '/', host: this.host, headers: {} });
      await this.pool.send(probe, ANY_STATUS);
    } catch (e) {
      throw new Error(`cannot reach the http service at ${this.origin}: ${errorText(e)}; check that the Service is running and its host and port are right`);
    }
  }

  async execute(op: Operation): Promise<OperationResult> {
    const pool = this.pool;
    if (!pool) throw new Error('http client used before setup()');
    const r = this.byName.get(op.name);
    if (!r) throw new Error(`http workload has no request named "${op.name}"`);
    try {
      const x = await pool.send(r.wire, r.ok);
      if (r.ok[x.status] !== 1) {
        throw new Error(`HTTP ${x.status} from ${r.method} ${r.path} (expected ${r.expected}): ${excerpt(x.excerpt) || '(empty body)'}`);
      }
      return { metrics: { ttfb: x.ttfb, bytes: x.bytes } };
    } catch (e) {
      if (e instanceof WireError && (e.kind === 'headersTimeout' || e.kind === 'bodyTimeout')) {
        throw new Error(`${e.message} within ${this.config.timeout} ms (workload.timeout) for ${r.method} ${r.path}; raise workload.timeout if the service is this slow`);
      }
      throw e;
    }
  }

  async teardown(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    // At once, not after the answers: requests abandoned by the engine's drain must not hold teardown.
    pool?.destroy();
  }
}
