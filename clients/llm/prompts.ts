// Where the LLM workload's prompts come from: a list in the spec, a JSONL file
// (plain text, chat messages, or ShareGPT-style conversations), synthetic text
// of a given length from a seeded generator, or multi-turn conversations that
// share a prefix (to measure prefix caching). Every source yields the same
// shape: the chat messages of one request, and how many tokens to ask for.
import { readFileSync } from 'node:fs';
import { ConfigError, type ConfigProblem } from '../client.js';
import { createRng } from '../engine/rng.js';
import type { LlmWorkload } from './schema.js';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface PromptItem {
  messages: ChatMessage[];
  /** Tokens to ask for (max_tokens / num_predict). */
  maxTokens: number;
}

/** The messages as one text, for the completion-style APIs. */
export const promptText = (p: PromptItem): string => p.messages.map((m) => m.content).join('\n\n');

/**
 * Short common English words: most tokenizers (GPT, Llama, Mistral) spend one
 * token on each, with its leading space, so N of them make a prompt of about N
 * tokens. The server's own count (usage.prompt_tokens) is what is reported.
 */
const WORDS = (
  'the of and to in is it that for on was with as be at by this had not are but from or have an they which one you were her all she there ' +
  'would their we him been has when who will more no if out so said what up its about into than them can only other new some could time ' +
  'these two may then do first any my now such like our over man me even most made after also did many before must through back years ' +
  'where much your way well down should because each just those people how too little state good very make world still own see men work ' +
  'long get here between both life being under never day same another know while last might us great old year off come since against go'
).split(' ');

function syntheticText(rng: { next(): number }, tokens: number): string {
  const out: string[] = [];
  for (let i = 0; i < tokens; i++) out.push(WORDS[Math.floor(rng.next() * WORDS.length)]);
  return out.join(' ');
}

/** One JSONL line as a request: "text", {"prompt"}, {"messages"}, or ShareGPT's {"conversations"} up to the first model turn. */
function fromJsonLine(value: unknown, maxTokens: number): PromptItem | string {
  if (typeof value === 'string') return value.trim() ? { messages: [{ role: 'user', content: value }], maxTokens } : 'is an empty prompt';
  if (value === null || typeof value !== 'object') return 'is neither a string nor an object';
  const o = value as Record<string, unknown>;
  const tokens = typeof o.max_tokens === 'number' && o.max_tokens > 0 ? Math.floor(o.max_tokens) : maxTokens;
  if (typeof o.prompt === 'string') return o.prompt.trim() ? { messages: [{ role: 'user', content: o.prompt }], maxTokens: tokens } : 'has an empty "prompt"';
  if (Array.isArray(o.messages)) {
    const messages: ChatMessage[] = [];
    for (const m of o.messages as Array<Record<string, unknown>>) {
      if (!m || typeof m.content !== 'string' || !['system', 'user', 'assistant'].includes(String(m.role))) {
        return 'has a message without role (system, user or assistant) and content';
      }
      messages.push({ role: m.role as ChatMessage['role'], content: m.content });
    }
    return messages.length > 0 ? { messages, maxTokens: tokens } : 'has no messages';
  }
  if (Array.isArray(o.conversations)) {
    const messages: ChatMessage[] = [];
    for (const turn of o.conversations as Array<Record<string, unknown>>) {
      const from = String(turn?.from ?? turn?.role ?? '');
      const text = turn?.value ?? turn?.content;
      if (typeof text !== 'string') return 'has a conversation turn without "value"';
      if (from === 'gpt' || from === 'assistant') break;
      messages.push({ role: from === 'system' ? 'system' : 'user', content: text });
    }
    return messages.length > 0 ? { messages, maxTokens: tokens } : 'has no human turn before the first model turn';
  }
  return 'has none of "prompt", "messages" or "conversations"';
}

export function readPromptFile(file: string, maxTokens: number): PromptItem[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError([{ path: 'workload.promptFile', message: `cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); give a JSONL file the runner can read` }]);
  }
  const problems: ConfigProblem[] = [];
  const items: PromptItem[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === '' || problems.length >= 5) return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (e) {
      problems.push({ path: 'workload.promptFile', message: `${file} line ${i + 1} is not JSON (${(e as Error).message}); each line must be one JSON value` });
      return;
    }
    const item = fromJsonLine(value, maxTokens);
    if (typeof item === 'string') problems.push({ path: 'workload.promptFile', message: `${file} line ${i + 1} ${item}` });
    else items.push(item);
  });
  if (problems.length === 0 && items.length === 0) problems.push({ path: 'workload.promptFile', message: `${file} holds no prompts; write one JSON value per line` });
  if (problems.length > 0) throw new ConfigError(problems);
  return items;
}

/** The workload's prompts, built once in setup; requests take them round-robin by sequence number. */
export function promptsOf(w: LlmWorkload): PromptItem[] {
  if (w.promptFile) return readPromptFile(w.promptFile, w.maxTokens);
  if (w.synthetic) {
    const s = w.synthetic;
    const rng = createRng(s.seed);
    return Array.from({ length: s.count }, () => ({ messages: [{ role: 'user' as const, content: syntheticText(rng, s.inputTokens) }], maxTokens: s.outputTokens ?? w.maxTokens }));
  }
  if (w.conversations) {
    const c = w.conversations;
    const rng = createRng(c.seed);
    // One system prompt shared by every conversation: the prefix a server can cache.
    const shared: ChatMessage = { role: 'system', content: syntheticText(rng, c.sharedPrefixTokens) };
    const out: PromptItem[] = [];
    for (let k = 0; k < c.count; k++) {
      const history: ChatMessage[] = [shared];
      for (let t = 0; t < c.turns; t++) {
        history.push({ role: 'user', content: syntheticText(rng, c.turnTokens) });
        out.push({ messages: [...history], maxTokens: w.maxTokens });
        // The next turn carries this answer as context; a fixed stand-in keeps it reproducible.
        history.push({ role: 'assistant', content: syntheticText(rng, w.maxTokens) });
      }
    }
    return out;
  }
  return w.prompts.map((content) => ({ messages: [{ role: 'user', content }], maxTokens: w.maxTokens }));
}
