// LLM inference: the OpenAI-compatible API (vLLM, TGI, Ollama's /v1), Ollama's
// native API and Triton's KServe v2 API. Per request: time to first token,
// inter-token latency, time per output token (both definitions), tokens, and
// Ollama's own timings; every one computed from a raw record (record.ts).
import { isAbsolute, join } from 'node:path';
import { defineWorkload } from '../workload.js';
import { promptFileProblems } from './prompt-file.js';
import { LLM_METRICS } from './record.js';
import { LlmWorkload } from './schema.js';

export const llm = defineWorkload({
  type: 'llm',
  summary: "LLM inference: OpenAI-compatible, Ollama's or Triton's API; TTFT, ITL, TPOT, tokens, goodput",
  schema: LlmWorkload,
  services: ['vllm', 'ollama', 'triton', 'http'],
  servicesFor: (w) => (w.protocol === 'ollama' ? ['ollama', 'http'] : w.protocol === 'triton' ? ['triton', 'http'] : ['vllm', 'ollama', 'triton', 'http']),
  needsService: true,
  metrics: LLM_METRICS,
  example: 'vllm.yaml',
  // The file is read where the runner runs; on a cluster that is a shared file system the controller sees too.
  preflight: (w) => (w.promptFile && isAbsolute(w.promptFile) ? promptFileProblems(w.promptFile).map((message) => ({ path: 'workload.promptFile', message })) : []),
  create: async (workload, ctx) => {
    const { LlmClient } = await import('./client.js');
    return new LlmClient(workload, {
      service: ctx.service,
      connections: ctx.connections,
      token: ctx.credential('token'),
      ...(workload.record && ctx.outDir ? { recordFile: join(ctx.outDir, `rank-${ctx.rank}.requests.jsonl`) } : {}),
    });
  },
});
