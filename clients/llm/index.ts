// LLM inference through the OpenAI-compatible API (vLLM; Ollama and Triton
// through their /v1 endpoints): latency, time to first token, inter-token
// latency and token counts per request.
import { defineWorkload } from '../workload.js';
import { LlmWorkload } from './schema.js';

export const llm = defineWorkload({
  type: 'llm',
  summary: 'LLM inference over the OpenAI-compatible API: chat or completions, streamed or not',
  schema: LlmWorkload,
  services: ['vllm', 'ollama', 'triton', 'http'],
  needsService: true,
  metrics: [
    { name: 'ttft', kind: 'timing', unit: 'ms', help: 'time to first token (streamed requests), from the intended send time', sinceSend: true },
    { name: 'itl', kind: 'timing', unit: 'ms', help: 'inter-token latency: the gaps between streamed chunks that carry text' },
    { name: 'outputTokens', kind: 'count', unit: 'tokens', help: "generated tokens: the server's usage count, else the chunks that carried text" },
    { name: 'inputTokens', kind: 'count', unit: 'tokens', help: "prompt tokens, from the server's usage (absent when it sends none)" },
  ],
  example: 'vllm.yaml',
  create: async (workload, ctx) => {
    const { LlmClient } = await import('./client.js');
    return new LlmClient(workload, { service: ctx.service, connections: ctx.inflight, token: ctx.credential('token') });
  },
});
