// How long a run needs its service, SLURM time limits, and the verdict a
// waiting benchmark acts on: fits, renew the service first, or fail at once.
import { describe, expect, it } from 'vitest';
import type { Load } from '../../../api/schemas.js';
import { human, parseSlurmTime, runNeed, serviceTimeVerdict, slurmTimeAtLeast, type ServiceTimeFacts } from '../../../machines/service-time.js';

const load = (over: Partial<Load> = {}): Load => ({
  mode: 'closed',
  workers: 4,
  arrival: 'constant',
  burstiness: 1,
  concurrency: 64,
  warmup: 0,
  seed: 1,
  stonewall: false,
  ...over,
});
const MIN = 60_000;

describe('runNeed', () => {
  it('is warmup + duration + a margin of 2 minutes, or a tenth of a long run', () => {
    expect(runNeed(load({ duration: 30_000 }))).toEqual({ ms: 30_000 + 2 * MIN, text: 'duration 30s + margin 2m' });
    expect(runNeed(load({ duration: 60 * MIN, warmup: 5 * MIN }))).toEqual({ ms: 65 * MIN + 6.5 * MIN, text: 'warmup 5m + duration 1h + margin 6m30s' });
  });

  it('counts every point of a sweep, and the most a knee search may run', () => {
    expect(runNeed(load({ duration: MIN, warmup: 10_000, sweep: { concurrencies: [1, 8, 32], stopOnSloBreak: true } }))).toEqual({
      ms: 3 * 70_000 + 2 * MIN,
      text: '3 points x (warmup 10s + duration 1m) + margin 2m',
    });
    const knee = runNeed(load({ mode: 'open', duration: MIN, sweep: { knee: { from: 1, factor: 2, maxPoints: 10 }, stopOnSloBreak: true } }));
    expect(knee).toEqual({ ms: 10 * MIN + 2 * MIN, text: 'up to 10 points x (duration 1m) + margin 2m' });
  });

  it('takes an open loop ended by maxRequests as long as its schedule, and gives no estimate for a closed one', () => {
    expect(runNeed(load({ mode: 'open', rate: 50, maxRequests: 3000 }))?.ms).toBe(60_000 + 2 * MIN);
    expect(runNeed(load({ mode: 'open', rate: 50, maxRequests: 3000 }))?.text).toBe('3000 requests at 50 req/s + margin 2m');
    expect(runNeed(load({ mode: 'open', maxRequests: 100, sweep: { rates: [10, 100], stopOnSloBreak: true } }))?.ms).toBe(10_000 + 1_000 + 2 * MIN);
    expect(runNeed(load({ maxRequests: 1000 }))).toBeUndefined();
  });
});

describe('SLURM time limits', () => {
  it('reads every form sbatch takes, and nothing it would refuse', () => {
    expect(parseSlurmTime('90')).toBe(90 * MIN);
    expect(parseSlurmTime('2:30')).toBe(150_000);
    expect(parseSlurmTime('01:30:00')).toBe(90 * MIN);
    expect(parseSlurmTime('1-0')).toBe(24 * 60 * MIN);
    expect(parseSlurmTime('1-02:03')).toBe((26 * 60 + 3) * MIN);
    expect(parseSlurmTime('1-02:03:04')).toBe(((26 * 60 + 3) * 60 + 4) * 1000);
    for (const none of ['UNLIMITED', 'infinite', '', '1h', '0']) expect(parseSlurmTime(none)).toBeUndefined();
  });

  it('suggests a limit rounded up to the minute', () => {
    expect(slurmTimeAtLeast(2 * MIN)).toBe('00:02:00');
    expect(slurmTimeAtLeast(2 * MIN + 1)).toBe('00:03:00');
    expect(slurmTimeAtLeast(25 * 60 * MIN)).toBe('1-01:00:00');
    expect(human(140_000)).toBe('2m20s');
    expect(human(3_900_000)).toBe('1h5m');
  });
});

describe('serviceTimeVerdict', () => {
  const now = Date.parse('2026-12-05T10:00:00Z');
  const need = { ms: 3 * MIN, text: 'duration 1m + margin 2m' };
  const facts = (over: Partial<ServiceTimeFacts> = {}): ServiceTimeFacts => ({ service: 'vllm', need, limit: '00:10:00', endsAt: now + 8 * MIN, attempt: 1, now, ...over });

  it('fits when the job has the run left, has no end, or the run has no estimate', () => {
    expect(serviceTimeVerdict(facts())).toEqual({ verdict: 'fits' });
    expect(serviceTimeVerdict(facts({ endsAt: now + 3 * MIN }))).toEqual({ verdict: 'fits' });
    expect(serviceTimeVerdict(facts({ endsAt: undefined, limit: undefined }))).toEqual({ verdict: 'fits' });
    expect(serviceTimeVerdict(facts({ need: undefined, limit: '00:01:00', endsAt: now }))).toEqual({ verdict: 'fits' });
  });

  it('fails at once, even before the service is Ready, when its whole spec.slurm.time is shorter than the run', () => {
    const v = serviceTimeVerdict(facts({ limit: '00:02:00', endsAt: undefined, attempt: undefined }));
    expect(v).toEqual({
      verdict: 'tooShort',
      message:
        'the run needs 3m of service vllm (duration 1m + margin 2m), more than its whole time limit, spec.slurm.time "00:02:00" (2m); ' +
        `set the Service's spec.slurm.time to at least "00:03:00" plus the time the service takes to become Ready, or shorten the run`,
    });
  });

  it('asks to renew the job a short attempt runs in', () => {
    expect(serviceTimeVerdict(facts({ endsAt: now + 50_000, attempt: 3 }))).toEqual({
      verdict: 'renew',
      attempt: 3,
      message: 'the run needs 3m of service vllm (duration 1m + margin 2m), and its job (attempt 3) ends in 50s',
    });
    // Still the attempt it asked about: the renewal has not happened yet, ask again.
    expect(serviceTimeVerdict(facts({ endsAt: now + 40_000, attempt: 3, renewalOf: 3 })).verdict).toBe('renew');
  });

  it('fails when even the job started after it asked is short (the start-up eats the rest), naming the limit that would do', () => {
    const v = serviceTimeVerdict(facts({ limit: '00:03:30', endsAt: now + 150_000, attempt: 4, renewalOf: 3 }));
    expect(v.verdict).toBe('tooShort');
    // 3m30s of limit left 2m30s once Ready: 3m needs 30s more, 4m, rounded up to the minute.
    expect(v).toMatchObject({ message: expect.stringContaining('even a fresh job of it (attempt 4) has only 2m30s left once Ready') });
    expect(v).toMatchObject({ message: expect.stringContaining(`set the Service's spec.slurm.time to at least "00:04:00"`) });
    const unset = serviceTimeVerdict(facts({ limit: undefined, endsAt: now + 150_000, attempt: 4, renewalOf: 3 }));
    expect(unset).toMatchObject({ verdict: 'tooShort', message: expect.stringContaining("the partition's default limit applies: set spec.slurm.time, 30s longer") });
  });
});
