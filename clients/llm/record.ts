// One raw record per LLM request, on the runner's clock (ms), from which every
// metric below is computed, so that any tool's definition can be recomputed
// from the run folder (`workload.record: true` keeps them, one JSON line each).
import type { MetricDecl, MetricSample } from '../../api/metrics.js';

export interface LlmRecord {
  /** When the engine meant to send it (open loop), and when it was sent. */
  scheduled?: number;
  sent: number;
  /** First chunk with answer text, and first with reasoning text. */
  firstContent?: number;
  firstReasoning?: number;
  /** Every chunk that carried tokens: when it arrived and how many tokens it carried. */
  chunks: Array<[at: number, tokens: number]>;
  done: number;
  /** From the server's usage, when it sent one. */
  inputTokens?: number;
  outputTokens?: number;
  reasoningTokens?: number;
  /** Ollama's own timings (ms) and counts, from its final message. */
  server?: { totalMs?: number; loadMs?: number; promptEvalMs?: number; evalMs?: number; promptEvalCount?: number; evalCount?: number };
}

/** A load above this is a model being loaded into memory, not a warm request. */
export const COLD_LOAD_MS = 500;

/** What every protocol's client measures; a protocol reports the subset it can see. */
export const LLM_METRICS: readonly MetricDecl[] = [
  { name: 'ttft', kind: 'timing', unit: 'ms', help: 'time to first token of the answer (streamed requests), from the intended send time', sinceSend: true },
  { name: 'ttfr', kind: 'timing', unit: 'ms', help: 'time to first reasoning token (reasoning models), from the intended send time', sinceSend: true },
  { name: 'itl', kind: 'timing', unit: 'ms', help: 'inter-token latency: each gap between token-bearing chunks, spread over the tokens of the later chunk' },
  { name: 'tpot', kind: 'timing', unit: 'ms', help: "time per output token as vLLM defines it: (end - first token) / (output tokens - 1)" },
  { name: 'tpotAll', kind: 'timing', unit: 'ms', help: 'time per output token as guidellm defines it, first token included: (end - send) / output tokens' },
  { name: 'inputTokens', kind: 'count', unit: 'tokens', help: "prompt tokens, from the server's usage" },
  { name: 'outputTokens', kind: 'count', unit: 'tokens', help: "generated tokens: the server's usage count, else the tokens the chunks carried" },
  { name: 'reasoningTokens', kind: 'count', unit: 'tokens', help: "reasoning tokens among the generated ones, from the server's usage" },
  { name: 'serverTotal', kind: 'timing', unit: 'ms', help: "the server's own time for the request (Ollama total_duration)" },
  { name: 'serverLoad', kind: 'timing', unit: 'ms', help: 'time the server spent loading the model (Ollama load_duration)' },
  { name: 'serverPromptEval', kind: 'timing', unit: 'ms', help: 'time the server spent on the prompt (Ollama prompt_eval_duration)' },
  { name: 'serverEval', kind: 'timing', unit: 'ms', help: 'time the server spent generating (Ollama eval_duration)' },
  { name: 'networkQueue', kind: 'timing', unit: 'ms', help: "the client's end-to-end time minus the server's own: network and queueing" },
  { name: 'coldLoad', kind: 'count', unit: 'requests', help: `requests that waited for a model load (server load time over ${COLD_LOAD_MS} ms)` },
];

/** The metrics one request reports, all computed from its record. */
export function metricsOf(r: LlmRecord): MetricSample {
  const m: Record<string, number | number[]> = {};
  const chunkTokens = r.chunks.reduce((sum, [, n]) => sum + n, 0);
  const output = r.outputTokens ?? chunkTokens;
  if (r.outputTokens !== undefined || r.chunks.length > 0) m.outputTokens = output;
  if (r.inputTokens !== undefined) m.inputTokens = r.inputTokens;
  if (r.reasoningTokens !== undefined) m.reasoningTokens = r.reasoningTokens;
  if (r.firstContent !== undefined) m.ttft = r.firstContent - r.sent;
  if (r.firstReasoning !== undefined) m.ttfr = r.firstReasoning - r.sent;
  const itl: number[] = [];
  for (let i = 1; i < r.chunks.length; i++) {
    const [at, n] = r.chunks[i];
    const gap = at - r.chunks[i - 1][0];
    const tokens = Math.max(1, n);
    for (let k = 0; k < tokens; k++) itl.push(gap / tokens);
  }
  if (r.chunks.length > 0) m.itl = itl;
  const first = r.chunks.length > 0 ? r.chunks[0][0] : undefined;
  if (first !== undefined && output > 1) m.tpot = (r.done - first) / (output - 1);
  if (output > 0) m.tpotAll = (r.done - r.sent) / output;
  const s = r.server;
  if (s) {
    if (s.totalMs !== undefined) {
      m.serverTotal = s.totalMs;
      m.networkQueue = Math.max(0, r.done - r.sent - s.totalMs);
    }
    if (s.loadMs !== undefined) {
      m.serverLoad = s.loadMs;
      m.coldLoad = s.loadMs > COLD_LOAD_MS ? 1 : 0;
    }
    if (s.promptEvalMs !== undefined) m.serverPromptEval = s.promptEvalMs;
    if (s.evalMs !== undefined) m.serverEval = s.evalMs;
  }
  return m;
}
