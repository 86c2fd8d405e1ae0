import { describe, expect, it } from 'vitest';
import { backoffMs } from '../../../machines/backoff.js';
import { canRetry, failureOf, ActorFailure, isTerminal } from '../../../machines/lifecycle.js';

describe('backoffMs', () => {
  const policy = { backoff: 10_000, maxBackoff: 300_000 };

  it('doubles from the base delay for each attempt', () => {
    expect([1, 2, 3, 4].map((a) => backoffMs(a, policy))).toEqual([10_000, 20_000, 40_000, 80_000]);
  });

  it('caps at maxBackoff, even for absurd attempt numbers', () => {
    expect(backoffMs(6, policy)).toBe(300_000); // 320s would exceed the cap
    expect(backoffMs(5, policy)).toBe(160_000);
    expect(backoffMs(10_000, policy)).toBe(300_000);
  });

  it('treats attempts below 1 as the first', () => {
    expect(backoffMs(0, policy)).toBe(10_000);
  });
});

describe('retry decision', () => {
  it('allows max retries after the first attempt, so max+1 attempts in all', () => {
    const retries = { max: 2, backoff: 1, maxBackoff: 1 };
    expect([1, 2, 3].map((attempt) => canRetry({ attempt, retries }))).toEqual([true, true, false]);
    expect(canRetry({ attempt: 1, retries: { ...retries, max: 0 } })).toBe(false);
  });

  it('keeps an ActorFailure reason and falls back to the default otherwise', () => {
    expect(failureOf(new ActorFailure('image not found', 'ImagePullFailed', false), 'StartFailed')).toEqual({ reason: 'ImagePullFailed', message: 'image not found' });
    expect(failureOf(new Error('boom'), 'StartFailed')).toEqual({ reason: 'StartFailed', message: 'boom' });
    expect(failureOf('plain', 'X')).toEqual({ reason: 'X', message: 'plain' });
    expect(isTerminal(new ActorFailure('m', 'R', false))).toBe(true);
    expect(isTerminal(new ActorFailure('m', 'R'))).toBe(false);
    expect(isTerminal(new Error('m'))).toBe(false);
  });
});
