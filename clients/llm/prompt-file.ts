// Prompt files: JSONL as datasets ship it (plain text, {"prompt"}, chat
// {"messages"}, ShareGPT {"conversations"}), read into requests, or checked
// line by line with every problem naming the file and the line.
import { readFileSync, statSync } from 'node:fs';
import { ConfigError } from '../client.js';
import type { ChatMessage, PromptItem } from './prompt-item.js';

/** One JSONL line as a request: "text", {"prompt"}, {"messages"}, or ShareGPT's {"conversations"} up to the first model turn. */
function fromJsonLine(value: unknown, maxTokens: number): PromptItem | string {
  if (typeof value === 'string') return value.trim() ? { messages: [{ role: 'user', content: value }], maxTokens } : 'is an empty prompt';
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'is neither a string nor an object';
  const o = value as Record<string, unknown>;
  if (o.max_tokens !== undefined && !(typeof o.max_tokens === 'number' && Number.isInteger(o.max_tokens) && o.max_tokens > 0)) {
    return `has "max_tokens": ${JSON.stringify(o.max_tokens)}, not a whole number above 0`;
  }
  const tokens = typeof o.max_tokens === 'number' ? o.max_tokens : maxTokens;
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

/** Lines reported by name; past these the count of the rest, so a file broken throughout gives one short message. */
const SHOWN_PROBLEMS = 5;

const unreadable = (file: string, e: NodeJS.ErrnoException): string => {
  const why =
    e.code === 'ENOENT' ? 'it does not exist' : e.code === 'EACCES' ? 'permission denied' : e.code === 'EISDIR' ? 'it is a folder' : (e.code ?? e.message);
  return `cannot read ${file}: ${why}; the runner reads it where it runs, so give a JSONL file that is there (a shared file system on a cluster)`;
};

/** The prompts of a JSONL file, or every problem in it (file and line named), as a ConfigError: found before any request. */
export function readPromptFile(file: string, maxTokens: number): PromptItem[] {
  const { items, problems } = parsePromptFile(file, maxTokens);
  if (problems.length > 0) throw new ConfigError(problems.map((message) => ({ path: 'workload.promptFile', message })));
  return items;
}

/** What readPromptFile finds, as messages that each name the file and the line. */
export function parsePromptFile(file: string, maxTokens: number): { items: PromptItem[]; problems: string[] } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    return { items: [], problems: [unreadable(file, e as NodeJS.ErrnoException)] };
  }
  // An editor's byte-order mark is not part of the first line's JSON.
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const problems: string[] = [];
  const items: PromptItem[] = [];
  let more = 0;
  let lastShown = 0;
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === '') return;
    const bad = (why: string) => {
      if (problems.length >= SHOWN_PROBLEMS) return void more++;
      problems.push(`${file} line ${i + 1} ${why}`);
      lastShown = i + 1;
    };
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (e) {
      bad(`is not JSON (${jsonError(e)}); each line must be one JSON value`);
      return;
    }
    const item = fromJsonLine(value, maxTokens);
    if (typeof item === 'string') bad(item);
    else items.push(item);
  });
  if (problems.length > 0 && text.trimStart().startsWith('[') && isJsonArray(text)) {
    // A common mix-up: a dataset shipped as one JSON array (ShareGPT's .json) rather than one value per line.
    return { items: [], problems: [`${file} is one JSON array, not JSON Lines (one value per line); convert it, e.g. jq -c '.[]' ${file} > prompts.jsonl`] };
  }
  if (more > 0) problems.push(`${file} has ${more} more bad line${more > 1 ? 's' : ''} after line ${lastShown}`);
  if (problems.length === 0 && items.length === 0) problems.push(`${file} holds no prompts; write one JSON value per line`);
  return { items: problems.length > 0 ? [] : items, problems };
}

/** The file's size and modification time when it was last checked, and what was wrong with it then. */
const checked = new Map<string, { stamp: string; problems: string[] }>();

/**
 * The problems of a prompt file, for a check before anything starts (the
 * controller's validation): re-read only when the file changed since, as a
 * resource is validated again at every change of its own file.
 */
export function promptFileProblems(file: string): string[] {
  let stamp: string;
  try {
    const st = statSync(file);
    stamp = `${st.size}/${st.mtimeMs}`;
  } catch (e) {
    return [unreadable(file, e as NodeJS.ErrnoException)];
  }
  const seen = checked.get(file);
  if (seen?.stamp === stamp) return seen.problems;
  const { problems } = parsePromptFile(file, 1);
  checked.set(file, { stamp, problems });
  return problems;
}

/** JSON.parse's complaint about one line, with its offset as the column an editor shows. */
function jsonError(e: unknown): string {
  const message = (e as Error).message.replace(/ \(line \d+ column \d+\)$/, '');
  return message.replace(/ in JSON at position (\d+)$/, (_, at: string) => ` at column ${Number(at) + 1}`);
}

function isJsonArray(text: string): boolean {
  try {
    return Array.isArray(JSON.parse(text));
  } catch {
    return false;
  }
}
