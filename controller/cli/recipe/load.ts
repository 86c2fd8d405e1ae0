// The recipe's load keys as a Benchmark's spec.load. The Python framework ran
// client_count threads that each sent a request, waited for the answer, then
// slept 1/requests_per_second: at most client_count x requests_per_second
// req/s with at most client_count in flight. aifb's open loop at that rate,
// capped at client_count in flight, asks the same, and says when it did not get it.
import type { EntryContext } from './entry.js';
import { durationMs, durationText, num, str } from './reader.js';

/** The Python framework's defaults when a recipe leaves these out. */
export const PYTHON_DEFAULTS = { clientCount: 1, requestsPerSecond: 10, durationS: 60 } as const;

export const LOAD_KEYS = ['client_count', 'requests_per_second', 'rate', 'concurrency', 'mode', 'duration', 'warmup', 'max_requests', 'requests', 'total_requests'] as const;

export function mapLoad(ctx: EntryContext): Record<string, unknown> {
  const { s, p } = ctx;
  const o = ctx.benchmarkOrigins;
  const clientsF = s.take('client_count');
  const clients = num(clientsF, p, { integer: true, positive: true });
  const rpsF = s.take('requests_per_second');
  const rps = num(rpsF, p, { positive: true });
  const rateF = s.take('rate');
  const rate = num(rateF, p, { positive: true });
  const concF = s.take('concurrency');
  const conc = num(concF, p, { integer: true, positive: true });
  const modeF = s.take('mode');
  const mode = str(modeF, p)?.toLowerCase();
  if (mode !== undefined && mode !== 'open' && mode !== 'closed') p.error(modeF!.key, `must be open (requests at a rate) or closed (workers, each sending its next request when the last returns), got "${mode}"`);

  const load: Record<string, unknown> = {};
  const closed = mode === 'closed' || (mode === undefined && conc !== undefined && rps === undefined && rate === undefined);
  if (closed) {
    const workers = conc ?? clients ?? PYTHON_DEFAULTS.clientCount;
    Object.assign(load, { mode: 'closed', workers });
    o['spec.load.workers'] = (concF ?? clientsF)?.key ?? ctx.key;
    for (const f of [rpsF, rateF]) if (f) p.warn(f.key, 'a closed loop sends each next request as soon as the last returns, so it has no rate; dropped. Remove mode: closed to run at this rate');
    ctx.notes.push(`load: closed loop, ${workers} worker${workers === 1 ? '' : 's'} each sending its next request when the last returns`);
  } else {
    const perClient = rps ?? PYTHON_DEFAULTS.requestsPerSecond;
    const count = clients ?? PYTHON_DEFAULTS.clientCount;
    const total = rate ?? count * perClient;
    const cap = conc ?? count;
    Object.assign(load, { mode: 'open', arrival: 'constant', rate: total, concurrency: cap });
    o['spec.load.rate'] = (rateF ?? rpsF ?? clientsF)?.key ?? ctx.key;
    o['spec.load.concurrency'] = (concF ?? clientsF)?.key ?? ctx.key;
    if (rateF && rpsF) p.warn(rpsF.key, `not used: rate (${rate} req/s in all) was given too, and wins. Keep one of the two`);
    const how = rate !== undefined ? `rate ${rate}` : `client_count ${count}${clients === undefined ? ' (default)' : ''} x requests_per_second ${perClient}${rps === undefined ? ' (default)' : ''}`;
    ctx.notes.push(
      `load: open loop at ${total} req/s (${how}; each Python client sent at most requests_per_second), at most ${cap} in flight; arrivals past that are counted as dropped, and latency counts from the intended send time`,
    );
  }

  const durF = s.take('duration');
  const dur = durationMs(durF, p) ?? PYTHON_DEFAULTS.durationS * 1000;
  load.duration = durationText(dur);
  o['spec.load.duration'] = durF?.key ?? ctx.key;
  if (!durF) ctx.notes.push(`duration: not set, so ${PYTHON_DEFAULTS.durationS}s, the Python framework's default`);

  const warmF = s.take('warmup');
  const warm = durationMs(warmF, p);
  if (warm !== undefined && warmF) {
    load.warmup = durationText(warm);
    o['spec.load.warmup'] = warmF.key;
  }
  const maxF = s.takeAny(['max_requests', 'requests', 'total_requests']);
  const max = num(maxF, p, { integer: true, positive: true });
  if (max !== undefined && maxF) {
    load.maxRequests = max;
    o['spec.load.maxRequests'] = maxF.key;
  }
  return load;
}
