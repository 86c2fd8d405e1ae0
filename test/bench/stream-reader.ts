// Benchmark (not a test): the CPU the llm client's OpenAI stream reader spends
// on one streamed answer, against the reader every SSE client starts as
// (split the events, JSON.parse each, read its delta and usage), in the same
// process on the same answers. The answer is the one `npm run bench -- http`
// streams (a role-only chunk, 16 tokens, usage, [DONE]), each with an id of
// its own as vLLM's are, arriving in one piece. Both readers record the same
// thing (a time and a token count per token chunk, the usage) and must agree
// on it; rounds alternate between them, and each one's fastest round is kept,
// as the machine's other work only ever adds time.
import { cpus } from 'node:os';
import { openaiProtocol } from '../../clients/llm/openai.js';
import type { LlmRecord } from '../../clients/llm/record.js';
import { LlmWorkload } from '../../clients/llm/schema.js';
import { streamedAnswer, TOKENS } from './bench-server.js';

export interface ReaderOptions {
  answers: number;
  rounds: number;
}

export const DEFAULTS: ReaderOptions = { answers: 200_000, rounds: 5 };

/** Distinct answers cycled through: enough that no reader sees the same text twice in a row. */
const DISTINCT = 1000;

/** Answer n: the http bench's streamed answer with an id and created time of its own. */
const answerText = (n: number): string => streamedAnswer(`chatcmpl-${n.toString(16).padStart(16, '0')}`, 1733460000 + (n % 7));

type Read = (text: string, record: LlmRecord, now: () => number) => void;

/** aifb's reader, as the client uses it: one protocol (its shapes) for every answer. */
function aifbReader(): Read {
  const protocol = openaiProtocol(LlmWorkload.parse({ type: 'llm', stream: true }), 'chat');
  return (text, record, now) => {
    const reader = protocol.reader('text/event-stream', record, now);
    reader.data(text);
    reader.end();
  };
}

/** The peer: events split at blank lines, each `data:` line parsed with JSON.parse. */
const parseEveryEvent: Read = (text, record, now) => {
  const at = now();
  for (const block of text.split('\n\n')) {
    if (!block.startsWith('data: ')) continue;
    const data = block.slice(6);
    if (data === '[DONE]') break;
    const chunk = JSON.parse(data) as { choices?: Array<{ delta?: { content?: string } }>; usage?: { prompt_tokens?: number; completion_tokens?: number } | null };
    if (chunk.usage) {
      record.inputTokens = chunk.usage.prompt_tokens;
      record.outputTokens = chunk.usage.completion_tokens;
    }
    const content = chunk.choices?.[0]?.delta?.content;
    if (typeof content === 'string' && content !== '') {
      record.firstContent ??= at;
      record.chunks.push([at, 1]);
    }
  }
  record.done = now();
};

export interface ReaderResult {
  /** Fastest round's microseconds per answer. */
  aifbUs: number;
  peerUs: number;
  /** Token chunks each reader recorded over its last round: they must be equal. */
  aifbChunks: number;
  peerChunks: number;
}

function round(read: Read, texts: string[], answers: number): { us: number; chunks: number } {
  let t = 0;
  const now = () => ++t;
  let chunks = 0;
  const start = process.hrtime.bigint();
  for (let i = 0; i < answers; i++) {
    const record: LlmRecord = { sent: 0, chunks: [], done: 0 };
    read(texts[i % texts.length], record, now);
    chunks += record.chunks.length;
  }
  return { us: Number(process.hrtime.bigint() - start) / 1000 / answers, chunks };
}

export function measureReaders(o: ReaderOptions = DEFAULTS): ReaderResult {
  const texts = Array.from({ length: DISTINCT }, (_, n) => answerText(n));
  const aifb = aifbReader();
  const best = { aifb: Infinity, peer: Infinity };
  const chunks = { aifb: 0, peer: 0 };
  for (let r = 0; r < o.rounds; r++) {
    for (const [name, read] of r % 2 === 0 ? ([['aifb', aifb], ['peer', parseEveryEvent]] as const) : ([['peer', parseEveryEvent], ['aifb', aifb]] as const)) {
      const { us, chunks: n } = round(read, texts, o.answers);
      best[name] = Math.min(best[name], us);
      chunks[name] = n;
    }
  }
  return { aifbUs: best.aifb, peerUs: best.peer, aifbChunks: chunks.aifb, peerChunks: chunks.peer };
}

export async function main(o: ReaderOptions = DEFAULTS): Promise<void> {
  console.log(`stream reader: one OpenAI stream of ${TOKENS} tokens (role chunk, tokens, usage, [DONE]) per answer, a new id each, ${o.answers} answers a round, fastest of ${o.rounds} rounds each`);
  console.log(`machine: ${cpus().length} cores, Node ${process.version}`);
  const r = measureReaders(o);
  if (r.aifbChunks !== r.peerChunks) throw new Error(`the readers disagree: aifb recorded ${r.aifbChunks} token chunks, JSON.parse of every event ${r.peerChunks}`);
  console.log('READER                   US/ANSWER');
  console.log(`aifb                     ${r.aifbUs.toFixed(2).padStart(9)}`);
  console.log(`JSON.parse every event   ${r.peerUs.toFixed(2).padStart(9)}`);
  console.log(`ratio aifb/JSON.parse every event: CPU per answer x${(r.aifbUs / r.peerUs).toFixed(2)} (below 1 = cheaper)`);
}
