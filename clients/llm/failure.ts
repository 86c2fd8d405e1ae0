// Why an LLM request failed, as the reason the reports count it under: the
// same words for every request that failed the same way (no ids, no echoed
// stream text, which would split one fault into a reason per request), naming
// the server's own message and the setting that fixes it where one does.
import { WireError } from '../http/wire.js';
import { errorText, excerpt } from '../http-common.js';

/**
 * A request that failed. `message` is its reason; `detail` is what exactly
 * came (the bytes that did not parse), kept only in the request's record
 * (workload.record), where it cannot split the count.
 */
export class AnswerError extends Error {
  constructor(
    message: string,
    readonly detail?: string,
  ) {
    super(message);
    this.name = 'AnswerError';
  }
}

/** Text that should have been JSON and is not: the kind of garbage in the reason, the garbage itself as detail. */
export function notJson(what: string, text: string): AnswerError {
  const t = text.trim();
  const kind = t === '' ? 'empty' : t.startsWith('<') ? 'HTML' : /^[[{"]/.test(t) ? 'cut off or broken' : 'plain text';
  return new AnswerError(`${what} is not JSON (${kind})`, excerpt(text));
}

/** The message inside an error body: OpenAI's and vLLM's `error.message` or `message`, Ollama's and Triton's `error`, FastAPI's `detail`. */
export function serverMessage(text: string): string {
  try {
    const doc = JSON.parse(text) as { error?: unknown; message?: unknown; detail?: unknown } | null;
    const e = doc?.error as { message?: unknown } | string | undefined;
    const m = typeof e === 'string' ? e : typeof e?.message === 'string' ? e.message : typeof doc?.message === 'string' ? doc.message : typeof doc?.detail === 'string' ? doc.detail : undefined;
    if (m !== undefined && m.trim() !== '') return excerpt(m);
  } catch {
    /* not JSON: the text itself below */
  }
  return excerpt(text) || '(empty body)';
}

export interface FailureContext {
  /** The request's path, e.g. /v1/chat/completions. */
  path: string;
  protocol: string;
  /** The model requests name, and the models the server listed at setup (when it lists them). */
  model?: string;
  served?: readonly string[];
}

const UNKNOWN_MODEL = /model/i;
const NOT_THERE = /not found|does not exist|unknown/i;

/** `HTTP 404 from POST /v1/chat/completions: <the server's message>; <what to do>`. */
export function httpFailure(status: number, body: string, ctx: FailureContext): AnswerError {
  const message = serverMessage(body);
  let hint = '';
  if (status === 401 || status === 403) hint = '; the server wants an API key: set credentials.token on the Service';
  else if ((status === 400 || status === 404) && UNKNOWN_MODEL.test(message) && NOT_THERE.test(message)) {
    const listed = ctx.served && ctx.served.length > 0 ? `; it serves ${ctx.served.join(', ')}` : '';
    hint = `; set workload.model (now ${ctx.model ?? 'unset'}) to a model the server has${listed}`;
  } else if (status === 404) hint = `; the server has no ${ctx.path}: check that it speaks workload.protocol ${ctx.protocol}`;
  return new AnswerError(`HTTP ${status} from POST ${ctx.path}: ${message}${hint}`, body === '' ? undefined : excerpt(body, 1000));
}

/**
 * A failure below HTTP: a timeout, a dropped or refused connection, an answer
 * that broke HTTP. `answered` says whether the answer had started (its status
 * line had come).
 */
export function transportFailure(e: unknown, answered: boolean, path: string, timeoutMs: number): string {
  if (!(e instanceof WireError)) return errorText(e);
  const cause = e.cause instanceof Error ? e.cause : undefined;
  switch (e.kind) {
    case 'headersTimeout':
      return `no answer within ${timeoutMs} ms (workload.timeout) from POST ${path}; raise workload.timeout if the server is this slow`;
    case 'bodyTimeout':
      return `the stream stalled: nothing for ${timeoutMs} ms (workload.timeout); raise workload.timeout if the server is this slow`;
    case 'connect':
      return `cannot connect to the server (${e.message}): it is not listening any more; see the server's log`;
    case 'protocol':
      return `the server's answer broke HTTP/1.1 (${e.message}); see the server's log`;
    case 'closed': {
      const why = cause ? errorText(cause) : 'closed by the other side';
      return `the connection dropped ${answered ? 'mid-answer' : 'before an answer came'} (${why}): the server or a proxy closed it; see the server's log`;
    }
  }
}
