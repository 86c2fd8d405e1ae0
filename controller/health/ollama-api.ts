// The two calls of Ollama's model API the controller makes: which models the
// server has (GET /api/tags) and fetching one (POST /api/pull, streamed NDJSON).
import { request } from 'undici';
import { errorText, excerpt } from '../../clients/http-common.js';
import type { Endpoint } from './readiness.js';

/** One line of a pull's stream: a status, per-layer byte counts while a layer downloads. */
export interface PullLine {
  status?: string;
  digest?: string;
  total?: number;
  completed?: number;
  error?: string;
}

/** Why a pull failed, as the server said it (HTTP status, or the stream's `error`). */
export class PullRefused extends Error {
  override name = 'PullRefused';
}

const originOf = (ep: Endpoint) => `${ep.scheme ?? 'http'}://${ep.host.includes(':') ? `[${ep.host}]` : ep.host}:${ep.port}`;

/**
 * Ollama's own spelling of a model, for comparing names: no tag means `:latest`,
 * the default registry and namespace are left out (`registry.ollama.ai/library/x`
 * is listed as `x`), and case does not matter.
 */
export function canonicalModel(name: string): string {
  const n = name
    .trim()
    .toLowerCase()
    .replace(/^registry\.ollama\.ai\//, '')
    .replace(/^library\//, '');
  // A digest-pinned name (`x@sha256:...`) is compared as written.
  if (n.includes('@')) return n;
  // The tag follows the last `/`: `myregistry:5000/team/model` has none.
  return n.slice(n.lastIndexOf('/') + 1).includes(':') ? n : `${n}:latest`;
}

/** The models the server has, by `name` (and `model`, which recent versions send too). Throws when it does not answer as Ollama does. */
export async function listModels(ep: Endpoint, signal?: AbortSignal): Promise<string[]> {
  let res;
  let text;
  try {
    res = await request(`${originOf(ep)}/api/tags`, { signal, headersTimeout: 10_000, bodyTimeout: 10_000 });
    text = await res.body.text();
  } catch (e) {
    throw new Error(`GET /api/tags failed: ${errorText(e)}`);
  }
  if (res.statusCode !== 200) throw new Error(`GET /api/tags answered HTTP ${res.statusCode}: ${excerpt(text) || '(empty body)'}`);
  let doc: { models?: Array<{ name?: unknown; model?: unknown }> };
  try {
    doc = JSON.parse(text) as typeof doc;
  } catch {
    throw new Error(`GET /api/tags did not answer JSON: ${excerpt(text)}`);
  }
  if (!Array.isArray(doc?.models)) throw new Error(`GET /api/tags answered without a "models" list: ${excerpt(text)}`);
  return doc.models.flatMap((m) => [m.name, m.model]).filter((n): n is string => typeof n === 'string');
}

/** True when `model` is among `names`, as Ollama would match them. */
export function hasModel(names: readonly string[], model: string): boolean {
  const want = canonicalModel(model);
  return names.some((n) => canonicalModel(n) === want);
}

/**
 * Pulls `model`, calling onLine for each progress object; resolves on
 * `{"status":"success"}`. Rejects with PullRefused when the server refuses
 * (non-200, or an `error` object mid-stream, which is how Ollama reports a
 * download that broke after it began), and with the transport's error when the
 * connection fails or `signal` aborts. No timeouts of its own: a pull may
 * legitimately go quiet (verifying a large digest), and the caller's deadline
 * decides how long is too long.
 */
export async function pullModel(ep: Endpoint, model: string, opts: { signal: AbortSignal; onLine: (line: PullLine) => void }): Promise<void> {
  const res = await request(`${originOf(ep)}/api/pull`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/x-ndjson' },
    body: JSON.stringify({ model, stream: true }),
    signal: opts.signal,
    headersTimeout: 0,
    bodyTimeout: 0,
  });
  if (res.statusCode !== 200) {
    const text = await res.body.text().catch((e: unknown) => errorText(e));
    throw new PullRefused(`HTTP ${res.statusCode}: ${serverError(text)}`);
  }
  res.body.setEncoding('utf8');
  let pending = '';
  let succeeded = false;
  const take = (text: string) => {
    if (text.trim() === '') return;
    let line: PullLine;
    try {
      line = JSON.parse(text) as PullLine;
    } catch {
      throw new PullRefused(`the progress stream has a line that is not JSON: ${excerpt(text)}`);
    }
    if (line.error !== undefined) throw new PullRefused(String(line.error));
    if (line.status === 'success') succeeded = true;
    else opts.onLine(line);
  };
  for await (const piece of res.body) {
    pending += piece as string;
    for (let nl = pending.indexOf('\n'); nl !== -1; nl = pending.indexOf('\n')) {
      take(pending.slice(0, nl));
      pending = pending.slice(nl + 1);
    }
  }
  take(pending);
  if (!succeeded) throw new PullRefused('the server closed the progress stream before it said "success"');
}

/** The `error` of an Ollama error body, else an excerpt of whatever came. */
function serverError(text: string): string {
  try {
    const doc = JSON.parse(text) as { error?: unknown };
    if (typeof doc?.error === 'string') return doc.error;
  } catch {
    // Not JSON: a proxy's page, say.
  }
  return excerpt(text) || '(empty body)';
}
