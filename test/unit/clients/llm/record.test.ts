// Every LLM metric comes from one raw record: these are the definitions.
import { describe, expect, it } from 'vitest';
import { metricsOf, type LlmRecord } from '../../../../clients/llm/record.js';

const base: LlmRecord = { sent: 1000, firstContent: 1100, chunks: [[1100, 1], [1150, 1], [1250, 2], [1300, 1]], done: 1310 };

describe('metricsOf', () => {
  it('time to first token, and inter-token latency spread over the tokens of each chunk', () => {
    const m = metricsOf(base);
    expect(m.ttft).toBe(100);
    // Gaps 50 (1 token), 100 (2 tokens: 50 each), 50 (1 token).
    expect(m.itl).toEqual([50, 50, 50, 50]);
    expect(m.outputTokens).toBe(5);
  });

  it('TPOT as vLLM defines it, and as guidellm does (first token included)', () => {
    const m = metricsOf({ ...base, outputTokens: 5 });
    expect(m.tpot).toBe((1310 - 1100) / (5 - 1));
    expect(m.tpotAll).toBe((1310 - 1000) / 5);
    expect(metricsOf({ ...base, chunks: [[1100, 1]], outputTokens: 1 }).tpot).toBeUndefined();
  });

  it('the server usage wins over the chunk count, and reasoning is kept apart from the answer', () => {
    const m = metricsOf({ ...base, firstReasoning: 1050, outputTokens: 9, inputTokens: 30, reasoningTokens: 4 });
    expect(m).toMatchObject({ outputTokens: 9, inputTokens: 30, reasoningTokens: 4, ttfr: 50, ttft: 100 });
  });

  it("Ollama's own timings, the network and queue share, and a cold load", () => {
    const m = metricsOf({ ...base, server: { totalMs: 250, loadMs: 800, promptEvalMs: 20, evalMs: 200 } });
    expect(m).toMatchObject({ serverTotal: 250, serverLoad: 800, serverPromptEval: 20, serverEval: 200, networkQueue: 60, coldLoad: 1 });
    expect(metricsOf({ ...base, server: { loadMs: 3 } }).coldLoad).toBe(0);
  });

  it('a whole (unstreamed) answer has tokens and no token timings', () => {
    const m = metricsOf({ sent: 0, chunks: [], done: 500, outputTokens: 10, inputTokens: 3 });
    expect(m).toEqual({ outputTokens: 10, inputTokens: 3, tpotAll: 50 });
  });
});
