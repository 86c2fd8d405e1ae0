// CLI entry for the fake vLLM, so a Service's `command:` can start it:
// node dist/test/fakes/vllm-server-main.js --port 8000 --model facebook/opt-125m
import { parseArgs } from 'node:util';
import { startFakeVllm } from './vllm-server.js';

const USAGE = 'usage: vllm-server-main [--port 8000] [--host 0.0.0.0] [--model facebook/opt-125m] [--token-delay-ms 1] [--ttft-ms 5] [--api-key KEY]  (or VLLM_API_KEY, as vLLM reads it)';

function num(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) {
    process.stderr.write(`--${name} must be a number >= 0, got "${raw}"\n${USAGE}\n`);
    process.exit(2);
  }
  return n;
}

let values;
try {
  ({ values } = parseArgs({
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      model: { type: 'string' },
      'token-delay-ms': { type: 'string' },
      'ttft-ms': { type: 'string' },
      'api-key': { type: 'string' },
    },
  }));
} catch (e) {
  process.stderr.write(`${(e as Error).message}\n${USAGE}\n`);
  process.exit(2);
}

// 0.0.0.0 by default: under SLURM the runner usually sits on another node.
const server = await startFakeVllm({
  port: num('port', values.port, 8000),
  host: values.host ?? '0.0.0.0',
  model: values.model ?? 'facebook/opt-125m',
  tokenDelayMs: num('token-delay-ms', values['token-delay-ms'], 1),
  ttftMs: num('ttft-ms', values['ttft-ms'], 5),
  apiKey: values['api-key'] ?? (process.env.VLLM_API_KEY || undefined),
});
const key = values['api-key'] ?? process.env.VLLM_API_KEY;
process.stdout.write(`fake vLLM listening on ${server.url} (port ${server.port}) model=${values.model ?? 'facebook/opt-125m'}${key ? ' api-key=required' : ''}\n`);

const stop = () => {
  void server.close().then(() => process.exit(0));
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
