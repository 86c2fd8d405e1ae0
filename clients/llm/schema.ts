// The llm workload's settings: which protocol (OpenAI-compatible, Ollama's
// native API, Triton's KServe v2 API), which call, which prompts, how long the
// answers, and what counts as too slow.
import { isAbsolute } from 'node:path';
import { z } from 'zod';
import { Duration } from '../../api/fields.js';
import { KeepAlive } from '../http/schema.js';

export const PROTOCOLS = ['openai', 'ollama', 'triton'] as const;
export type Protocol = (typeof PROTOCOLS)[number];

/** The calls each protocol offers; the first is its default. */
export const APIS_BY_PROTOCOL = {
  openai: ['chat', 'completions'],
  ollama: ['chat', 'generate'],
  triton: ['generate', 'infer'],
} as const satisfies Record<Protocol, readonly string[]>;

export const ALL_APIS = ['chat', 'completions', 'generate', 'infer'] as const;
export type LlmApi = (typeof ALL_APIS)[number];

const TritonInput = z.strictObject({
  name: z.string().min(1),
  shape: z.array(z.number().int().nonnegative()).min(1),
  datatype: z.enum(['BOOL', 'UINT8', 'UINT16', 'UINT32', 'UINT64', 'INT8', 'INT16', 'INT32', 'INT64', 'FP16', 'FP32', 'FP64', 'BYTES']),
  data: z.array(z.unknown()).min(1),
});

export const LlmWorkload = z
  .strictObject({
    type: z.literal('llm'),
    /** openai: vLLM, TGI, Ollama's /v1 and others; ollama: Ollama's /api; triton: KServe v2 (Triton). */
    protocol: z.enum(PROTOCOLS).default('openai'),
    /** openai: chat | completions; ollama: chat | generate; triton: generate | infer. Default: the first. */
    api: z.enum(ALL_APIS).optional(),
    /** Default: the first model the server lists (openai, ollama); triton needs it. */
    model: z.string().min(1).optional(),
    /** Prompts sent round-robin; or promptFile, synthetic or conversations instead. */
    prompts: z.array(z.string().min(1)).min(1).default(['Explain in one paragraph what a GPU does.']),
    /** An absolute path to a JSONL file the runner can read where it runs: one "text", {"prompt"}, {"messages"} or ShareGPT {"conversations"} per line. */
    promptFile: z
      .string()
      .min(1)
      // The runner works in its own run folder (.aifb/runs/...), on its own node: a relative path would be looked for there.
      .refine((p) => isAbsolute(p), { message: 'must be an absolute path (/...): the runner reads it on its node, from its own run folder' })
      .optional(),
    /** Seeded prompts of about inputTokens tokens each (one common word per token), outputTokens long answers. */
    synthetic: z
      .strictObject({
        inputTokens: z.number().int().positive(),
        outputTokens: z.number().int().positive().optional(),
        count: z.number().int().positive().default(100),
        seed: z.number().int().default(1),
      })
      .optional(),
    /** Multi-turn conversations sharing one system prompt of sharedPrefixTokens: each turn resends the history. */
    conversations: z
      .strictObject({
        count: z.number().int().positive().default(10),
        turns: z.number().int().positive().default(3),
        sharedPrefixTokens: z.number().int().nonnegative().default(512),
        turnTokens: z.number().int().positive().default(64),
        seed: z.number().int().default(1),
      })
      .optional(),
    maxTokens: z.number().int().positive().default(64),
    temperature: z.number().min(0).max(2).default(0),
    /** Ask the server to generate maxTokens whatever the text says (vLLM's ignore_eos), so output lengths hold. */
    ignoreEos: z.boolean().default(false),
    /** Streaming measures time to first token and inter-token latency as well. */
    stream: z.boolean().default(true),
    /** vLLM: ask for usage in every chunk (continuous_usage_stats), so a chunk of several tokens is known as such. */
    continuousUsage: z.boolean().default(false),
    /** Longest wait for the answer to start, and then for each next piece of it (a stalled stream fails). */
    timeout: Duration.default(120_000),
    keepAlive: KeepAlive,
    /** Keep one raw record per request (send time, every chunk, tokens) in the run folder, as rank-N.requests.jsonl. */
    record: z.boolean().default(false),
    /** triton, api infer: the request's inputs, as KServe v2 writes them. */
    inputs: z.array(TritonInput).min(1).optional(),
  })
  .superRefine((w, ctx) => {
    const apis: readonly string[] = APIS_BY_PROTOCOL[w.protocol];
    if (w.api !== undefined && !apis.includes(w.api)) {
      ctx.addIssue({ code: 'custom', path: ['api'], message: `protocol ${w.protocol} offers ${apis.join(' and ')}, not ${w.api}` });
    }
    const sources = (['promptFile', 'synthetic', 'conversations'] as const).filter((k) => w[k] !== undefined);
    if (sources.length > 1) ctx.addIssue({ code: 'custom', path: [sources[1]], message: `set one prompt source: ${sources.join(' or ')}, not both` });
    if (w.protocol === 'triton' && w.model === undefined) ctx.addIssue({ code: 'custom', path: ['model'], message: 'protocol triton needs the model name Triton serves it under' });
    if (w.api === 'infer' && w.inputs === undefined) {
      ctx.addIssue({ code: 'custom', path: ['inputs'], message: 'api infer sends the inputs you give: list them (name, shape, datatype, data) as KServe v2 does' });
    }
  });

export type LlmWorkload = z.output<typeof LlmWorkload>;

/** The call a workload makes: its api, or its protocol's first. */
export const apiOf = (w: Pick<LlmWorkload, 'protocol' | 'api'>): LlmApi => w.api ?? APIS_BY_PROTOCOL[w.protocol][0];
