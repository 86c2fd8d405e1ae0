// The model an Ollama Service names, made present before the Service counts as
// Ready: ask the server what it has, pull what is missing, tell the user how far
// it got, and give up at the deadline the readiness check already has.
import { formatDuration } from '../../api/units.js';
import { ActorFailure } from '../../machines/lifecycle.js';
import { errorText } from '../../clients/http-common.js';
import type { Clock } from '../runtime/clock.js';
import { pollUntil } from '../runtime/poll.js';
import { hasModel, listModels, pullModel, PullRefused } from './ollama-api.js';
import { bytesText, PullProgress } from './pull-progress.js';
import { ReadinessTimeout, type Endpoint } from './readiness.js';

export interface EnsureModelOptions {
  clock: Clock;
  /** On the clock: when spec.readiness.timeout runs out. Listing and pulling both end by then. */
  deadline: number;
  /** spec.readiness.timeout, for messages. */
  timeoutMs: number;
  /** How often to ask again for the model list while the server does not answer it (spec.readiness.interval). */
  intervalMs: number;
  /** Aborted when the machine leaves the state (deleted, replaced). */
  signal: AbortSignal;
  /** `service x at host:port`, for messages. */
  what: string;
  /** Records a user-visible event (reason PullingModel or ModelPulled). */
  event(reason: 'PullingModel' | 'ModelPulled', message: string): void;
}

/** What the user can do about a pull that failed, whatever the cause. */
function pullHint(model: string): string {
  return (
    `check spec.model against the Ollama library (https://ollama.com/library; a name without a tag means :latest), ` +
    `and that the node Ollama runs on can reach its registry (registry.ollama.ai, or the host the name starts with); ` +
    `or pull it beforehand into the server's model folder (OLLAMA_MODELS, ~/.ollama/models by default) with \`ollama pull ${model}\``
  );
}

/** Resolves once the server lists `model`, pulling it first when it is missing; `pulled` says whether it had to. */
export async function ensureOllamaModel(ep: Endpoint, model: string, opts: EnsureModelOptions): Promise<{ pulled: boolean }> {
  const { clock, what } = opts;
  const overdue = (doing: string) =>
    new ReadinessTimeout(
      `${what}: ${doing} did not finish within spec.readiness.timeout (${formatDuration(opts.timeoutMs)}), which covers both the server answering and the model pull; ` +
        `raise spec.readiness.timeout (Ollama keeps what it downloaded, so the next attempt resumes), or pull the model beforehand into the server's model folder (OLLAMA_MODELS)`,
    );

  // A server whose readiness is checked over TCP (or not at all) may not answer HTTP yet: ask until it does.
  let lastError = '';
  const names = await pollUntil(
    async () => {
      try {
        return await listModels(ep, opts.signal);
      } catch (e) {
        lastError = errorText(e);
        throw e;
      }
    },
    { clock, intervalMs: opts.intervalMs, timeoutMs: Math.max(0, opts.deadline - clock.now()), signal: opts.signal, what, onTimeout: () => overdue(`listing its models (${lastError})`) },
  );
  if (hasModel(names, model)) return { pulled: false };

  const progress = new PullProgress(model, () => clock.now());
  const began = clock.now();
  opts.event('PullingModel', `model ${model} is not on ${what}; pulling it (${names.length} other model(s) there)`);

  // One abort for both endings that are not the server's doing: the deadline, and the machine leaving the state.
  const abort = new AbortController();
  let timedOut = false;
  const timer = clock.setTimeout(() => {
    timedOut = true;
    abort.abort();
  }, Math.max(0, opts.deadline - clock.now()));
  const onAbort = () => abort.abort();
  opts.signal.addEventListener('abort', onAbort, { once: true });
  try {
    await pullModel(ep, model, {
      signal: abort.signal,
      onLine: (line) => {
        const message = progress.take(line);
        if (message) opts.event('PullingModel', message);
      },
    });
  } catch (e) {
    if (timedOut) throw overdue(`pulling model ${model} (${progress.bytes.total === 0 ? 'no layer begun yet' : `${progress.amount()} done`})`);
    if (opts.signal.aborted) throw new Error(`stopped pulling model ${model} into ${what}`);
    // Refused by the server, or the connection broke (the server went away mid-pull): both fail this attempt.
    const cause = e instanceof PullRefused ? e.message : `the connection failed: ${errorText(e)}`;
    // A name the registry does not know stays unknown: retrying would only repeat the wait for the server.
    const unknownModel = e instanceof PullRefused && /file does not exist/.test(e.message);
    throw new ActorFailure(`could not pull model ${model} into ${what}: ${cause}; ${pullHint(model)}`, 'ModelPullFailed', !unknownModel);
  } finally {
    clock.clearTimeout(timer);
    opts.signal.removeEventListener('abort', onAbort);
  }
  const { total } = progress.bytes;
  opts.event('ModelPulled', `pulled model ${model}${total > 0 ? ` (${bytesText(total)})` : ''} in ${formatDuration(clock.now() - began)}`);
  return { pulled: true };
}
