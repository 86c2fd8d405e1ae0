// CLI entry for the LLM STAND-INS, so a test can run one in its own process
// (apart from the client it measures, as a real server would be):
//   node dist/test/fakes/llm-stand-in-main.js --protocol openai|ollama|triton [--port 0] [--timeline JSON]
// It prints `listening on <url>` once it answers.
import { parseArgs } from 'node:util';
import type { Timeline } from './llm-timeline.js';
import { startFakeOllama } from './ollama-server.js';
import { startFakeTriton } from './triton-server.js';
import { startFakeVllm } from './vllm-server.js';

const { values } = parseArgs({ options: { protocol: { type: 'string' }, port: { type: 'string' }, timeline: { type: 'string' } } });
const port = Number(values.port ?? 0);
const timeline = values.timeline ? (JSON.parse(values.timeline) as Timeline) : undefined;
const server =
  values.protocol === 'ollama'
    ? await startFakeOllama({ port, timeline })
    : values.protocol === 'triton'
      ? await startFakeTriton({ port, timeline })
      : await startFakeVllm({ port, timeline });
process.stdout.write(`listening on ${server.url}\n`);
const stop = () => void server.close().then(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
