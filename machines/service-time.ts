// How long a benchmark's run needs its service, and whether the service's job
// has that long left: pure, so the rules are tested without a clock or SLURM.
import type { Load } from '../api/schemas.js';

/**
 * Time the run needs beyond its warmup and duration: before the runner's clock
 * starts, its job is scheduled and set up (connections, a prefill, ranks
 * meeting); after it, in-flight requests drain and tables or buckets are
 * cleaned up, all against the service. Two minutes covers a free node's
 * scheduling and a usual setup; a tenth of the run covers what grows with the
 * run (a sweep's setup per point, draining under heavy load).
 */
export const MARGIN_MIN_MS = 120_000;
export const MARGIN_SHARE = 0.1;

export interface RunNeed {
  /** Warmup, measured time and margin, in ms. */
  ms: number;
  /** How it adds up, for messages: `warmup 10s + duration 1m + margin 2m`. */
  text: string;
}

/**
 * What the run needs of its service, or undefined when nothing says how long it
 * runs: a closed loop ended by `maxRequests` alone lasts as long as the server
 * takes, which is what is being measured. An open loop sends on a schedule, so
 * `maxRequests` at `rate` is its length. A sweep counts every point, a knee
 * search its `maxPoints` (it may stop sooner; a cut-off sweep loses the rest).
 */
export function runNeed(load: Load): RunNeed | undefined {
  const rates = pointRates(load);
  const points = rates?.length ?? pointCount(load);
  let perPointMs: number[];
  let what: string;
  if (load.duration !== undefined) {
    perPointMs = Array.from({ length: points }, () => load.warmup + load.duration!);
    what = `duration ${human(load.duration)}`;
  } else if (load.maxRequests !== undefined && load.mode === 'open' && rates) {
    const maxRequests = load.maxRequests;
    perPointMs = rates.map((rate) => load.warmup + Math.ceil((maxRequests / rate) * 1000));
    what = rates.length === 1 ? `${maxRequests} requests at ${rates[0]} req/s` : `${maxRequests} requests at each rate`;
  } else {
    return undefined;
  }
  const runMs = perPointMs.reduce((a, b) => a + b, 0);
  const marginMs = Math.max(MARGIN_MIN_MS, Math.ceil(runMs * MARGIN_SHARE));
  const one = load.warmup > 0 ? `warmup ${human(load.warmup)} + ${what}` : what;
  const body = points === 1 ? one : `${load.sweep?.knee ? 'up to ' : ''}${points} points x (${one})`;
  return { ms: runMs + marginMs, text: `${body} + margin ${human(marginMs)}` };
}

/** Open loop: the rate of each point in order; undefined in a closed loop. */
function pointRates(load: Load): number[] | undefined {
  if (load.mode !== 'open') return undefined;
  const s = load.sweep;
  if (s?.rates) return s.rates;
  if (s?.knee) return Array.from({ length: s.knee.maxPoints }, (_, i) => s.knee!.from * s.knee!.factor ** i);
  if (load.rate === undefined) return undefined;
  return Array.from({ length: s?.parameter?.values.length ?? 1 }, () => load.rate!);
}

function pointCount(load: Load): number {
  const s = load.sweep;
  return s?.concurrencies?.length ?? s?.parameter?.values.length ?? s?.rates?.length ?? s?.knee?.maxPoints ?? 1;
}

/**
 * A SLURM time limit (`--time`) in ms: `M`, `M:S`, `H:M:S`, `D-H`, `D-H:M`,
 * `D-H:M:S`. Undefined for `UNLIMITED`/`INFINITE` and for what sbatch would refuse anyway.
 */
export function parseSlurmTime(text: string): number | undefined {
  const t = text.trim();
  const m = /^(?:(\d+)-)?(\d+)(?::(\d+))?(?::(\d+))?$/.exec(t);
  if (!m) return undefined;
  const [, d, a, b, c] = m;
  const n = (v: string | undefined) => (v === undefined ? 0 : Number(v));
  let seconds: number;
  if (d !== undefined) seconds = n(d) * 86_400 + n(a) * 3600 + n(b) * 60 + n(c);
  else if (c !== undefined) seconds = n(a) * 3600 + n(b) * 60 + n(c);
  else if (b !== undefined) seconds = n(a) * 60 + n(b);
  else seconds = n(a) * 60;
  return seconds > 0 ? seconds * 1000 : undefined;
}

/** A time limit that holds ms, rounded up to the minute (SLURM's granularity): `00:05:00`, `1-02:00:00`. */
export function slurmTimeAtLeast(ms: number): string {
  const minutes = Math.max(1, Math.ceil(ms / 60_000));
  const days = Math.floor(minutes / 1440);
  const hh = String(Math.floor((minutes % 1440) / 60)).padStart(2, '0');
  const mm = String(minutes % 60).padStart(2, '0');
  return `${days > 0 ? `${days}-` : ''}${hh}:${mm}:00`;
}

/** `45s`, `2m20s`, `1h5m`: exact enough for a message, never rounded down to nothing. */
export function human(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = s % 60;
  if (h > 0) return `${h}h${m > 0 ? `${m}m` : ''}`;
  return `${m}m${rest > 0 ? `${rest}s` : ''}`;
}

export interface ServiceTimeFacts {
  service: string;
  need: RunNeed | undefined;
  /** The Service's spec.slurm.time as written, when a SLURM job of aifb's runs it. */
  limit?: string;
  /** When the service's current job ends (its status.endsAt), epoch ms; undefined when nothing will end it or it is not Ready. */
  endsAt?: number;
  /** The service's current attempt. */
  attempt?: number;
  now: number;
  /** The attempt this benchmark asked to have renewed, once it asked. */
  renewalOf?: number;
}

export type ServiceTimeVerdict =
  | { verdict: 'fits' }
  /** Its job ends too soon, and a fresh one would not: start it again first. */
  | { verdict: 'renew'; attempt: number; message: string }
  /** No job of the service can last the run: a spec must change. */
  | { verdict: 'tooShort'; message: string };

/**
 * Whether the service lasts the run. The whole time limit is checked first, so
 * a run no job can hold fails before anything is started or renewed; a job
 * that started after this benchmark asked for it and is still short shows that
 * the service's own start-up eats what the run needs, and is not renewed again.
 */
export function serviceTimeVerdict(f: ServiceTimeFacts): ServiceTimeVerdict {
  const { need } = f;
  if (!need) return { verdict: 'fits' };
  const limitMs = f.limit === undefined ? undefined : parseSlurmTime(f.limit);
  const needs = `the run needs ${human(need.ms)} of service ${f.service} (${need.text})`;
  if (limitMs !== undefined && need.ms > limitMs) {
    return {
      verdict: 'tooShort',
      message:
        `${needs}, more than its whole time limit, spec.slurm.time "${f.limit}" (${human(limitMs)}); ` +
        `set the Service's spec.slurm.time to at least "${slurmTimeAtLeast(need.ms)}" plus the time the service takes to become Ready, or shorten the run`,
    };
  }
  if (f.endsAt === undefined || f.attempt === undefined) return { verdict: 'fits' };
  const remaining = f.endsAt - f.now;
  if (remaining >= need.ms) return { verdict: 'fits' };
  if (f.renewalOf !== undefined && f.attempt > f.renewalOf) {
    const fix =
      limitMs !== undefined
        ? `set the Service's spec.slurm.time to at least "${slurmTimeAtLeast(limitMs + need.ms - remaining)}"`
        : `its spec.slurm.time is not set, so the partition's default limit applies: set spec.slurm.time, ${human(need.ms - remaining)} longer than that default at least`;
    return {
      verdict: 'tooShort',
      message: `${needs}, and even a fresh job of it (attempt ${f.attempt}) has only ${human(remaining)} left once Ready, its start-up taking the rest; ${fix}, or shorten the run`,
    };
  }
  return { verdict: 'renew', attempt: f.attempt, message: `${needs}, and its job (attempt ${f.attempt}) ends in ${human(remaining)}` };
}
