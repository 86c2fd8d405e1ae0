import { describe, expect, it } from 'vitest';
import { formatAge, formatCount, formatLatency, formatRate, humanDuration, orNone, renderTable } from '../../../controller/cli/format.js';

describe('humanDuration', () => {
  it('matches kubectl for the usual ages', () => {
    expect(humanDuration(5_000)).toBe('5s');
    expect(humanDuration(119_000)).toBe('119s');
    expect(humanDuration(3 * 60_000)).toBe('3m');
    expect(humanDuration(3 * 60_000 + 10_000)).toBe('3m10s');
    expect(humanDuration(45 * 60_000)).toBe('45m');
    // kubectl keeps minutes up to 3h: `120m`, then hours.
    expect(humanDuration(2 * 3_600_000)).toBe('120m');
    expect(humanDuration(4 * 3_600_000)).toBe('4h');
    expect(humanDuration(4 * 3_600_000 + 5 * 60_000)).toBe('4h5m');
    expect(humanDuration(20 * 3_600_000)).toBe('20h');
    expect(humanDuration(4 * 86_400_000)).toBe('4d');
    expect(humanDuration(4 * 86_400_000 + 3 * 3_600_000)).toBe('4d3h');
    expect(humanDuration(30 * 86_400_000)).toBe('30d');
    expect(humanDuration(3 * 365 * 86_400_000)).toBe('3y');
  });

  it('treats a timestamp slightly in the future as 0s and far in the future as invalid', () => {
    expect(humanDuration(-500)).toBe('0s');
    expect(humanDuration(-60_000)).toBe('<invalid>');
  });
});

describe('formatAge', () => {
  const now = Date.parse('2024-05-01T12:00:00Z');
  it('measures from the given clock', () => {
    expect(formatAge('2024-05-01T11:59:55Z', now)).toBe('5s');
  });
  it('says <unknown> when there is no timestamp', () => {
    expect(formatAge(undefined, now)).toBe('<unknown>');
    expect(formatAge('not a date', now)).toBe('<unknown>');
  });
});

describe('number formats', () => {
  it('prints counts as integers, rates with one decimal', () => {
    expect(formatCount(1499.6)).toBe('1500');
    expect(formatRate(49.96)).toBe('50.0');
    expect(formatRate(0)).toBe('0.0');
  });
  it('prints latency in ms below a second and in seconds above', () => {
    expect(formatLatency(12.34)).toBe('12.3ms');
    expect(formatLatency(999.94)).toBe('999.9ms');
    expect(formatLatency(1200)).toBe('1.20s');
  });
  it('prints <none> for missing values', () => {
    expect(formatCount(undefined)).toBe('<none>');
    expect(formatRate(Number.NaN)).toBe('<none>');
    expect(formatLatency(undefined)).toBe('<none>');
    expect(orNone('')).toBe('<none>');
    expect(orNone(0)).toBe('0');
  });
});

describe('renderTable', () => {
  it('aligns columns with two spaces and leaves no trailing blanks', () => {
    const out = renderTable(
      ['NAME', 'PHASE', 'AGE'],
      [
        ['a', 'Running', '5s'],
        ['longer-name', 'Ready', '3m'],
      ],
    );
    expect(out).toBe('NAME         PHASE    AGE\na            Running  5s\nlonger-name  Ready    3m\n');
  });
});
