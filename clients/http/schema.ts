// The http workload's settings: one request (method, path, headers, body) or a
// weighted list of named requests, the status that counts as success, timeouts.
import { z } from 'zod';
import { Duration } from '../../api/fields.js';

export const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD'] as const;
export const STATUS_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const;

const Status = z.number().int().min(100).max(599);

/**
 * How long an idle connection is kept for the next request; 0 = a connection
 * per request (sent with `connection: close`). A server's own
 * `keep-alive: timeout=N` shortens it. 4 s, as undici does, by default.
 */
export const KeepAlive = Duration.default(4_000);

/** 200, [200, 204] or a class such as `2xx` (the default). */
export const ExpectStatus = z.union([Status, z.array(Status).min(1), z.enum(STATUS_CLASSES)]);

/** A string is sent as is; an object or list is sent as JSON (content-type application/json unless headers say otherwise). */
export const Body = z.union([z.string(), z.record(z.string(), z.unknown()), z.array(z.unknown())]);

const requestFields = {
  /** Default: GET. */
  method: z.enum(METHODS).optional(),
  /** Path and query, e.g. `/v2/health/ready` or `/search?q=gpu`. Default: `/`. */
  path: z.string().startsWith('/', 'must start with "/", e.g. /health').optional(),
  headers: z.record(z.string(), z.string()).optional(),
  body: Body.optional(),
  /** Default: `2xx`. */
  expectStatus: ExpectStatus.optional(),
};

export const HttpRequest = z.strictObject({
  /** The operation name in reports; default: the method in lower case. */
  name: z
    .string()
    .regex(/^[a-z0-9][a-z0-9_.-]{0,62}$/i, 'must be letters, digits, ".", "_" or "-", e.g. get-health')
    .optional(),
  ...requestFields,
  /** Share of this request in the mix; weights need not sum to 1. */
  weight: z.number().positive().default(1),
});

export const HttpWorkload = z
  .strictObject({
    type: z.literal('http'),
    /** One request: method, path, headers, body, expectStatus here; or a weighted list in `requests`. */
    ...requestFields,
    requests: z.array(HttpRequest).min(1).optional(),
    /** Longest wait for a whole response; a slower one is a failed request. */
    timeout: Duration.default(30_000),
    /** Requests sent on one connection before their answers (HTTP/1.1 pipelining); 1 = none. */
    pipelining: z.number().int().min(1).max(256).default(1),
    keepAlive: KeepAlive,
  })
  .superRefine((w, ctx) => {
    if (w.keepAlive === 0 && w.pipelining > 1) {
      ctx.addIssue({ code: 'custom', path: ['pipelining'], message: 'pipelining sends several requests on one kept connection; set keepAlive above 0, or pipelining to 1' });
    }
    if (!w.requests) return;
    for (const field of Object.keys(requestFields) as (keyof typeof requestFields)[]) {
      if (w[field] !== undefined) ctx.addIssue({ code: 'custom', path: [field], message: `set ${field} inside each entry of requests, or drop requests and set it here` });
    }
  });

export type HttpWorkload = z.output<typeof HttpWorkload>;
export type HttpRequest = z.output<typeof HttpRequest>;
