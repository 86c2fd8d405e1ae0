// The llm workload's settings: chat or completion requests to an
// OpenAI-compatible server (vLLM; Ollama and Triton through their /v1 API).
import { z } from 'zod';
import { Duration } from '../../api/fields.js';

export const LlmWorkload = z.strictObject({
  type: z.literal('llm'),
  api: z.enum(['chat', 'completions']).default('chat'),
  /** Default: the first model the server lists at /v1/models. */
  model: z.string().optional(),
  prompts: z.array(z.string().min(1)).min(1).default(['Explain in one paragraph what a GPU does.']),
  maxTokens: z.number().int().positive().default(64),
  temperature: z.number().min(0).max(2).default(0),
  /** Streaming measures time to first token and inter-token latency as well. */
  stream: z.boolean().default(true),
  timeout: Duration.default(120_000),
});
export type LlmWorkload = z.output<typeof LlmWorkload>;
