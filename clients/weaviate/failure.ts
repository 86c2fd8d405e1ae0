// Why a Weaviate request failed, as the reason the reports count it under:
// Weaviate's words and status, then the setting that fixes it. No ids, vectors
// or keys in it, so one fault is one reason however many requests hit it.
import { excerpt } from '../http-common.js';

export interface WeaviateTarget {
  /** `http://host:port`. */
  origin: string;
  className: string;
  dimension: number;
  /** Where the API key is read from (`file /path (credentials.token)`), never the key. */
  tokenFrom?: string;
}

/** An error the client made itself: a batch answered 200 with errors per object, a search with GraphQL errors. */
export class WeaviateAnswerError extends Error {
  override name = 'WeaviateAnswerError';
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

/** The status and Weaviate's own message, from whichever layer threw. */
function answerOf(e: Error): { status?: number; message: string } | undefined {
  if (e instanceof WeaviateAnswerError) return { status: e.status, message: e.message };
  // weaviate-ts-client's REST calls: `usage error (401): {"code":401,"message":"..."}`.
  const usage = /^usage error \((\d{3})\): ?(.*)$/s.exec(e.message);
  if (usage) return { status: Number(usage[1]), message: serverMessage(usage[2]) };
  // graphql-request's ClientError (GraphQL): the answer rides along.
  const response = (e as { response?: { status?: number; errors?: Array<{ message?: string }>; error?: string } }).response;
  if (response && typeof response === 'object') {
    const first = response.errors?.[0]?.message ?? response.error ?? e.message.split(': {"response"')[0];
    return { status: response.status, message: serverMessage(String(first)) };
  }
  return undefined;
}

/** The message inside Weaviate's error bodies (`{"error":[{"message":..}]}` or `{"code":..,"message":..}`), or the text. */
export function serverMessage(body: string): string {
  try {
    const doc = JSON.parse(body) as { error?: Array<{ message?: string }>; message?: string };
    return doc.error?.[0]?.message ?? doc.message ?? body;
  } catch {
    return body;
  }
}

/** A vector length Weaviate refused, from its two ways of saying so. */
function dimensionClash(message: string): number | undefined {
  const insert = /vector with length \d+\. Existing nodes have vectors with length (\d+)/.exec(message);
  if (insert) return Number(insert[1]);
  const search = /vector lengths don't match: (\d+) vs \d+/.exec(message);
  return search ? Number(search[1]) : undefined;
}

export interface WeaviateFailure {
  message: string;
  /** The setting to change when retrying cannot help (a refused key, another dimension): for a ConfigError. */
  path?: string;
}

/** The reason for a failed call, naming the fix where there is one. `action`: what was asked (`batch import`, `search`...). */
export function weaviateFailure(e: unknown, action: string, t: WeaviateTarget): WeaviateFailure {
  const message = weaviateReason(e, action, t);
  const answer = e instanceof Error ? answerOf(e) : undefined;
  if (answer && dimensionClash(answer.message) !== undefined) return { message, path: 'workload.dimension' };
  if (answer?.status === 401 || answer?.status === 403) return { message, path: 'service.credentials.token' };
  return { message };
}

export function weaviateReason(e: unknown, action: string, t: WeaviateTarget): string {
  if (!(e instanceof Error)) return `${action} failed: ${String(e)}`;
  const where = `Weaviate at ${t.origin}`;
  const answer = answerOf(e);
  if (answer) {
    const { status, message } = answer;
    const words = excerpt(message, 160);
    const held = dimensionClash(message);
    if (held !== undefined) {
      return `class "${t.className}" at ${t.origin} holds vectors of length ${held}; workload.dimension is ${t.dimension}: set dimension to ${held}, or set workload.className to another class (or delete class ${t.className})`;
    }
    if (status === 401) {
      return t.tokenFrom
        ? `${where} refused the API key (HTTP 401: ${words}); check the key the Service's credentials.token points to (${t.tokenFrom})`
        : `${where} wants an API key (HTTP 401: ${words}); give the Service credentials.token ({ file: ... } or { env: ... }) holding one of its AUTHENTICATION_APIKEY_ALLOWED_KEYS`;
    }
    if (status === 403) return `${where} forbids ${action} on class "${t.className}" to this API key (HTTP 403: ${words}); give the key's user rights on the class, or use another key`;
    if (status === 404) return `class "${t.className}" is not at ${where} (HTTP 404) at ${action}; was it deleted while the benchmark ran?`;
    if (status === 503) return `${where} is not ready (HTTP 503: ${words}); wait until the Service is Ready`;
    if (status === 422) return `${where} refused ${action} (HTTP 422): ${words}`;
    return `${action} failed at ${where}${status ? ` (HTTP ${status})` : ''}: ${words}`;
  }
  return networkReason(e, action, where);
}

function networkReason(e: Error, action: string, where: string): string {
  // fetch (undici) says `fetch failed` and puts the socket's error in `cause`.
  const cause = (e.cause ?? e) as NodeJS.ErrnoException;
  switch (cause.code) {
    case 'ECONNREFUSED':
      return `connection refused by ${where} (ECONNREFUSED); check that the Service is running and its host and port are right`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `the host of ${where} was not found (${cause.code}); check the Service's host`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `no route to ${where} (${cause.code}); check the Service's host and the network between`;
    case 'ECONNRESET':
    case 'UND_ERR_SOCKET':
      return `the connection to ${where} dropped during ${action} (${cause.code})`;
    case 'UND_ERR_CONNECT_TIMEOUT':
      return `no connection to ${where} in time (${cause.code}); check the host, the port and any firewall between`;
  }
  if (e.name === 'TimeoutError' || cause.name === 'TimeoutError') return `no answer from ${where} in time to ${action}; check that the host is reachable from the runner's node and the port is right`;
  const text = cause !== (e as unknown) && cause.message ? `${e.message}: ${cause.message}` : e.message;
  return `${action} failed at ${where}: ${excerpt(text, 160)}`;
}
