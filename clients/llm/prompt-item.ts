// The one shape every prompt source yields (prompts.ts, prompt-file.ts): the
// chat messages of one request, and how many tokens to ask for.

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface PromptItem {
  messages: ChatMessage[];
  /** Tokens to ask for (max_tokens / num_predict). */
  maxTokens: number;
}
