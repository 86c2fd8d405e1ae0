// Live series: ranks' cumulative counts summed, rendered under the report's
// names, and served by the controller's /metrics beside its own series.
import { describe, expect, it } from 'vitest';
import type { LiveOperation } from '../../../api/runner-contract.js';
import { ControllerMetrics } from '../../../monitoring/controller-metrics.js';
import { mergeLive, renderLive } from '../../../monitoring/live.js';

const buckets = (n: number, at: number) => ({ counts: Array.from({ length: 18 }, (_, i) => (i >= at ? n : 0)), count: n, sumSeconds: n * 0.01 });
const op = (requests: number, errors: number, at = 7): LiveOperation => ({
  requests,
  errors,
  latency: buckets(requests - errors, at),
  metrics: {
    ttft: { kind: 'timing', count: requests - errors, sum: 5 * (requests - errors), buckets: buckets(requests - errors, 5) },
    outputTokens: { kind: 'count', count: requests - errors, sum: 64 * (requests - errors) },
    recall: { kind: 'value', count: requests - errors, sum: 0.9 * (requests - errors) },
  },
});

describe('mergeLive', () => {
  it('sums two ranks operation by operation, buckets and metrics included', () => {
    const merged = mergeLive([{ chat: op(10, 1) }, { chat: op(20, 2, 9), embed: op(5, 0) }]);
    expect(merged.chat.requests).toBe(30);
    expect(merged.chat.errors).toBe(3);
    expect(merged.chat.latency.count).toBe(27);
    expect(merged.chat.latency.counts[7]).toBe(9);
    expect(merged.chat.latency.counts[9]).toBe(27);
    expect(merged.chat.metrics.outputTokens).toEqual({ kind: 'count', count: 27, sum: 64 * 27 });
    expect(merged.chat.metrics.ttft.buckets!.count).toBe(27);
    expect(merged.embed.requests).toBe(5);
  });
});

describe('renderLive', () => {
  const text = renderLive([{ benchmark: 'b', service: 's', run: 'b-g1-a1', operations: { chat: op(10, 1), embed: op(4, 0) } }]);
  const labels = (operation: string) => `{benchmark="b",service="s",run="b-g1-a1",operation="${operation}"}`;

  it("uses the report's names, with operation=\"all\" the sum of the operations", () => {
    expect(text).toContain(`benchmark_requests_total${labels('chat')} 10\n`);
    expect(text).toContain(`benchmark_requests_total${labels('all')} 14\n`);
    expect(text).toContain(`benchmark_requests_successful${labels('all')} 13\n`);
    expect(text).toContain(`benchmark_requests_failed${labels('all')} 1\n`);
    expect(text).toContain(`benchmark_request_duration_seconds_count${labels('all')} 13\n`);
    expect(text).toContain('benchmark_request_duration_seconds_bucket{benchmark="b",service="s",run="b-g1-a1",operation="all",le="+Inf"} 13\n');
  });

  it('renders timings as histograms, counts as counters and values as summaries without quantiles', () => {
    expect(text).toContain('# TYPE benchmark_ttft_seconds histogram\n');
    expect(text).toContain(`benchmark_ttft_seconds_count${labels('chat')} 9\n`);
    expect(text).toContain('# TYPE benchmark_output_tokens_total counter\n');
    expect(text).toContain(`benchmark_output_tokens_total${labels('all')} ${64 * 13}\n`);
    expect(text).toContain('# TYPE benchmark_recall summary\n');
    expect(text).toContain(`benchmark_recall_count${labels('all')} 13\n`);
    expect(text).not.toContain('quantile=');
  });

  it('is empty with nothing running', () => {
    expect(renderLive([])).toBe('');
  });
});

describe('ControllerMetrics', () => {
  it("serves its own series from its sources and each running benchmark's live series until cleared", async () => {
    let depth = 3;
    const m = new ControllerMetrics({ resources: () => new Map([['Benchmark', new Map([['Running', 2], ['Succeeded', 1]])]]), queueDepth: () => depth });
    m.reconciles.inc({ kind: 'Benchmark', result: 'ok' });
    m.setLive('Benchmark/b', { benchmark: 'b', service: 's', run: 'r', operations: { chat: op(10, 1) } });
    const text = await m.text();
    expect(text).toMatch(/^aifb_resources\{kind="Benchmark",phase="Running"\} 2$/m);
    expect(text).toMatch(/^aifb_resources\{kind="Benchmark",phase="Succeeded"\} 1$/m);
    expect(text).toMatch(/^aifb_workqueue_depth 3$/m);
    expect(text).toMatch(/^aifb_reconciles_total\{kind="Benchmark",result="ok"\} 1$/m);
    expect(text).toMatch(/^aifb_running_benchmarks 1$/m);
    expect(text).toMatch(/^aifb_controller_process_resident_memory_bytes \d+/m);
    expect(text).toContain('benchmark_requests_total{benchmark="b",service="s",run="r",operation="all"} 10\n');
    depth = 0;
    m.clearLive('Benchmark/b');
    const after = await m.text();
    expect(after).toMatch(/^aifb_workqueue_depth 0$/m);
    expect(after).not.toContain('benchmark_requests_total{');
  });
});
