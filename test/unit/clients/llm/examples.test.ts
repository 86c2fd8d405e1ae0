// The LLM examples as a user copies them: each Benchmark points at the Service
// in its own file, which its protocol can talk to, and its workload, exactly
// as written, runs against a stand-in of that server. (That every example
// validates is test/unit/api/schemas.test.ts.)
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { Load } from '../../../../api/schemas.js';
import { validateResource } from '../../../../controller/api/validate.js';
import type { BenchmarkResource, Resource } from '../../../../controller/api/schemas.js';
import { systemClock } from '../../../../clients/engine/clock.js';
import { runLoad } from '../../../../clients/engine/engine.js';
import { LlmClient } from '../../../../clients/llm/client.js';
import { llm } from '../../../../clients/llm/index.js';
import type { LlmWorkload } from '../../../../clients/llm/schema.js';
import { serviceMismatch } from '../../../../clients/registry.js';
import { simpleTimeline } from '../../../fakes/llm-timeline.js';
import { startFakeOllama } from '../../../fakes/ollama-server.js';
import { startFakeTriton } from '../../../fakes/triton-server.js';
import { startFakeVllm } from '../../../fakes/vllm-server.js';

interface Server {
  port: number;
  close(): Promise<void>;
}

const EXAMPLES = [
  { file: 'vllm.yaml', service: 'vllm', protocol: 'openai', standIn: (model: string) => startFakeVllm({ model, ttftMs: 2, tokenDelayMs: 1 }) },
  { file: 'ollama.yaml', service: 'ollama', protocol: 'ollama', standIn: (model: string) => startFakeOllama({ models: [model], timeline: simpleTimeline(8, 2, 1) }) },
  { file: 'triton.yaml', service: 'triton', protocol: 'triton', standIn: (model: string) => startFakeTriton({ models: [model], timeline: simpleTimeline(8, 2, 1) }) },
] as const;

function resourcesOf(file: string): Resource[] {
  return parseAllDocuments(readFileSync(`examples/${file}`, 'utf8')).map((d) => {
    const r = validateResource(d.toJS());
    if (!r.ok) throw new Error(`examples/${file}: ${JSON.stringify(r.problems)}`);
    return r.resource;
  });
}

let open: { server?: Server; client?: LlmClient } = {};
afterEach(async () => {
  await open.client?.teardown();
  await open.server?.close();
  open = {};
});

describe('the llm examples', () => {
  for (const ex of EXAMPLES) {
    it(`${ex.file}: its Benchmark talks ${ex.protocol} to the ${ex.service} Service beside it, and its workload runs against a stand-in`, async () => {
      const resources = resourcesOf(ex.file);
      const benchmark = resources.find((r): r is BenchmarkResource => r.kind === 'Benchmark')!;
      const service = resources.find((r) => r.kind === 'Service' && r.metadata.name === benchmark.spec.serviceRef);
      expect(service?.kind === 'Service' ? service.spec.type : undefined).toBe(ex.service);
      const workload = benchmark.spec.workload as LlmWorkload;
      expect(workload).toMatchObject({ type: 'llm', protocol: ex.protocol });
      expect(serviceMismatch(workload, ex.service)).toBeUndefined();

      // The model the workload names (or the Service's, as the server would list it).
      const model = workload.model ?? (service?.kind === 'Service' ? service.spec.model : undefined) ?? 'facebook/opt-125m';
      open.server = await ex.standIn(model);
      open.client = new LlmClient(workload, { service: { scheme: 'http', host: '127.0.0.1', port: open.server.port }, connections: 4 });
      await open.client.setup();
      const r = await runLoad({ client: open.client, metrics: llm.metrics, load: Load.parse({ mode: 'closed', workers: 2, maxRequests: 6 }), ranks: 1, rank: 0, clock: systemClock });
      expect(r.totals).toMatchObject({ requests: 6, errors: 0 });
      expect(r.operations[open.client.operations[0]].metrics.ttft.count).toBe(6);
    });
  }
});
