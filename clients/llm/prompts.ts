// Where the LLM workload's prompts come from: a list in the spec, a JSONL file
// (plain text, chat messages, or ShareGPT-style conversations), synthetic text
// of a given length from a seeded generator, or multi-turn conversations that
// share a prefix (to measure prefix caching). Every source yields the same
// shape: the chat messages of one request, and how many tokens to ask for.
import { createRng } from '../engine/rng.js';
import { readPromptFile } from './prompt-file.js';
import type { ChatMessage, PromptItem } from './prompt-item.js';
import type { LlmWorkload } from './schema.js';

export type { ChatMessage, PromptItem } from './prompt-item.js';

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
