import { describe, expect, it } from 'vitest';
import type { ResultsSummary } from '../../../api/schemas.js';
import { summaryText } from '../../../clients/runner/summary-text.js';

const base: ResultsSummary = {
  requests: 111,
  errors: 11,
  errorRate: 11 / 111,
  durationS: 8,
  throughput: 12.5,
  meanMs: 299.5,
  p50Ms: 298.5,
  p90Ms: 305,
  p95Ms: 307,
  p99Ms: 309.5,
  p999Ms: 310,
  maxMs: 311,
  p99MsWithFailures: null,
  goodput: 12,
  endedBy: 'duration',
  errorReasons: { 'the stream stalled: nothing for 2000 ms (workload.timeout)': 11 },
  metrics: {
    itl: { unit: 'ms', mean: 12.5, p50: 12.5, p99: 18.2, p99WithFailures: 25.7 },
    ttft: { unit: 'ms', mean: 123.5, p50: 122.2, p99: 141.1, p99WithFailures: null },
    tpot: { unit: 'ms', mean: 11.7, p50: 11.7, p99: 12.3, p99WithFailures: null },
    inputTokens: { unit: 'tokens', mean: 200, p50: 200, p99: 200, sum: 20_000, perSecond: 2500, peakPerSecond: 4000 },
    outputTokens: { unit: 'tokens', mean: 16, p50: 16, p99: 16, sum: 1600, perSecond: 200, peakPerSecond: 320 },
  },
};

describe('summaryText', () => {
  it("reads like vLLM's serving result: counts, why requests failed, throughputs, then TTFT, TPOT, ITL and E2E blocks", () => {
    const text = summaryText(base, 'llm result');
    const lines = text.trimEnd().split('\n');
    expect(lines[0]).toBe('=================== llm result ===================');
    expect(lines.at(-1)).toBe('='.repeat(50));
    expect(text).toContain(
      [
        'Successful requests:                     100',
        'Failed requests:                         11',
        '  11 x the stream stalled: nothing for 2000 ms (workload.timeout)',
        'Benchmark duration (s):                  8.00',
        'Ended by:                                duration',
        'Total input tokens:                      20000',
        'Total generated tokens:                  1600',
        'Request throughput (req/s):              12.50',
        'Request goodput (req/s):                 12.00',
        'Output token throughput (tok/s):         200.00',
        'Peak output token throughput (tok/s):    320.00',
        'Total token throughput (tok/s):          2700.00',
      ].join('\n'),
    );
    // vLLM's order, whatever order the metrics came in; a failure makes the MLPerf-style p99 infinite.
    const headings = lines.filter((l) => l.startsWith('-'));
    expect(headings.map((h) => h.replace(/^-+ | -+$/g, ''))).toEqual(['Time to First Token', 'Time per Output Token (excl. 1st token)', 'Inter-token Latency', 'End-to-end Latency']);
    expect(text).toContain('P99 TTFT (ms):                           141.10\nP99 TTFT, failed=inf (ms):               inf\n');
    expect(text).toContain('P99 ITL, failed=inf (ms):                25.70\n');
    expect(text).toContain('Mean E2EL (ms):                          299.50\n');
  });

  it('leaves out what a run without failures, tokens or an SLO does not have', () => {
    const text = summaryText({ ...base, errors: 0, errorReasons: undefined, goodput: undefined, metrics: { bytes: { unit: 'bytes', mean: 4096, p50: 4096, p99: 4096, sum: 40960, perSecond: 5120 } } });
    expect(text).not.toMatch(/failed=inf|goodput|tokens|Time to First/);
    expect(text).toContain('Total bytes (bytes):                     40960\n');
    expect(text).toContain('bytes throughput (bytes/s):              5120.00\n');
  });

  it('open loop: says whether the load generator kept up, and why not in full', () => {
    const kept = summaryText({ ...base, sendLagP99Ms: 0.2, generator: { targetRate: 100, achievedRate: 99.5, sendLagP99Ms: 0.2, dropped: 0, keptUp: true } });
    expect(kept).toContain('Sent / target rate (req/s):              99.50 / 100.00\nLoad generator kept up:                  yes\n');
    const why = 'the load generator did not keep up: send lag p99 4 ms > 1 ms: the runner sent requests late';
    const limited = summaryText({ ...base, generator: { targetRate: 100, achievedRate: 100, sendLagP99Ms: 4, dropped: 0, keptUp: false, why } });
    expect(limited).toContain(`Load generator kept up:                  NO\n  ${why}\n`);
    expect(summaryText(base)).not.toContain('Load generator');
  });
});
