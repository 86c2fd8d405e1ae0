// Why a ChromaDB request failed, as the reason the reports count it under:
// what went wrong at which server and the setting that fixes it. The chromadb
// client drops the socket error of a failed fetch, so reaching the server is
// checked apart (heartbeat) with the errno kept.
import { errorText, excerpt } from '../http-common.js';

export interface Target {
  /** `http://host:port`. */
  origin: string;
  collection: string;
  dimension: number;
  /** Where the token or password is read from, e.g. `file /run/secrets/chroma`: never the value. */
  credentialFrom?: string;
  timeoutMs: number;
}

const NETWORK: Record<string, string> = {
  ECONNREFUSED: 'connection refused (nothing listens there)',
  ENOTFOUND: 'host name not found',
  EAI_AGAIN: 'host name lookup failed (DNS)',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'connection timed out',
  ECONNRESET: 'connection reset by the server',
};

/** The errno under a fetch failure (undici wraps it in `cause`, sometimes twice). */
function errnoOf(e: unknown): string | undefined {
  for (let c: unknown = e, i = 0; c && i < 4; c = (c as { cause?: unknown }).cause, i++) {
    const code = (c as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && code in NETWORK) return code;
  }
  return undefined;
}

/** Why the heartbeat found no ChromaDB, naming what to check. */
export function unreachable(e: unknown, t: Target): string {
  const where = `ChromaDB at ${t.origin}`;
  const code = errnoOf(e);
  if (code) return `cannot reach ${where}: ${NETWORK[code]} (${code}); check that the Service is running and its host and port are right`;
  if ((e as Error)?.name === 'TimeoutError' || (e as Error)?.name === 'AbortError') {
    return `no answer from ${where} within ${t.timeoutMs} ms; check that the host is reachable from the runner's node and the port is right`;
  }
  return `cannot reach ${where}: ${excerpt(errorText(e))}`;
}

/** The answer to the heartbeat was not ChromaDB's. */
export function notChroma(status: number, t: Target): string {
  if (status === 401 || status === 403) return unauthorized(t);
  return `${t.origin} answered GET /api/v2/heartbeat with HTTP ${status}: not a ChromaDB 1.x server (the chromadb 3.x client speaks its v2 API); check the Service's port and version`;
}

function unauthorized(t: Target): string {
  return t.credentialFrom
    ? `ChromaDB at ${t.origin} refused the credentials; check the token the Service's credentials point to (${t.credentialFrom})`
    : `ChromaDB at ${t.origin} wants authentication and none is set; give the Service credentials.token ({ file: ... } or { env: ... })`;
}

const DIMENSION = /expecting embedding with dimension of (\d+), got (\d+)/i;

/** The dimension the collection holds and the one sent, when the server refused vectors for their length. */
export function dimensionMismatch(e: unknown): { has: number; got: number } | undefined {
  const m = DIMENSION.exec((e as Error)?.message ?? '');
  return m ? { has: Number(m[1]), got: Number(m[2]) } : undefined;
}

export const dimensionMessage = (t: Target, has: number): string =>
  `collection "${t.collection}" holds vectors of dimension ${has}; workload.dimension is ${t.dimension}: set workload.dimension to ${has}, or workload.collection to another name`;

/** The reason for a failed request or setup step (`action`: add, query, update, delete, createCollection...). */
export function chromaReason(e: unknown, action: string, t: Target): string {
  if (!(e instanceof Error)) return `${action} failed: ${String(e)}`;
  const dim = dimensionMismatch(e);
  if (dim) return dimensionMessage(t, dim.has);
  switch (e.name) {
    case 'ChromaConnectionError':
      return `lost the connection to ChromaDB at ${t.origin} during ${action}; check that the Service is still running`;
    case 'ChromaUnauthorizedError':
    case 'ChromaForbiddenError':
      return unauthorized(t);
    case 'ChromaNotFoundError':
      return `collection "${t.collection}" was not there at ${action}; was it deleted while the benchmark ran?`;
    case 'ChromaRateLimitError':
      return `ChromaDB at ${t.origin} asked to slow down (HTTP 429) at ${action}: it cannot take this rate`;
    case 'ChromaQuotaExceededError':
      return `ChromaDB at ${t.origin} refused ${action}: ${excerpt(e.message, 120)}`;
    case 'ChromaClientError':
      // "Bad request to <url> with status: <server words>": the url holds the collection id, one per run.
      return `ChromaDB refused ${action}: ${excerpt(e.message.replace(/^Bad request to \S+ with status: /, ''), 160)}`;
    case 'ChromaServerError':
      return `ChromaDB at ${t.origin} failed ${action} (server error: ${excerpt(e.message, 120)})`;
  }
  return `${action} failed: ${excerpt(errorText(e))}`;
}
