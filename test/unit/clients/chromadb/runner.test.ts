// The chromadb workload from the runner's point of view, against a real
// ChromaDB: a run ends with recall in the summary and no collection left; a
// collection of another dimension and a server that is not there end it with
// the reason the controller shows. Needs chromadb in clients/registry.ts.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connection } from '../../../../api/connection.js';
import { RUNNER_EXIT, type RankDone, type RankSummary } from '../../../../api/runner-contract.js';
import { Load } from '../../../../api/schemas.js';
import { ChromadbWorkload } from '../../../../clients/chromadb/schema.js';
import { systemClock } from '../../../../clients/engine/clock.js';
import { workloadDefinition } from '../../../../clients/registry.js';
import { runRunner } from '../../../../clients/runner/run.js';
import { encodeSpec } from '../../../../clients/runner/spec.js';
import { freeLocalPort } from '../../../../containers/native/native-services.js';
import { startChroma, type ChromaServer } from './server.js';

const registered = workloadDefinition('chromadb') !== undefined;

describe.skipIf(!registered)('the runner with a chromadb workload', () => {
  let srv: ChromaServer;
  let tmp: string;
  beforeAll(async () => {
    srv = await startChroma();
    tmp = await mkdtemp(join(tmpdir(), 'aifb-chroma-runner-'));
  });
  afterAll(async () => {
    await srv?.stop();
    await rm(tmp, { recursive: true, force: true });
  });

  async function runnerRun(name: string, workload: Record<string, unknown>, service: Connection = srv.service()) {
    const dir = join(tmp, name);
    const spec = {
      benchmark: 'vectors',
      runId: name,
      ranks: 1,
      workload: ChromadbWorkload.parse({ type: 'chromadb', dimension: 16, data: { count: 1000 }, queries: { count: 100 }, ...workload }),
      load: Load.parse({ mode: 'closed', workers: 2, duration: '800ms', warmup: '200ms' }),
      service,
    };
    const specPath = join(tmp, `${name}.json`);
    await writeFile(specPath, JSON.stringify(encodeSpec(spec as never)));
    const warnings: string[] = [];
    const code = await runRunner({ specPath, outDir: dir, rank: 0, clock: systemClock, signal: new AbortController().signal, emit: () => {}, warn: (m) => warnings.push(m) });
    const done = JSON.parse(await readFile(join(dir, 'rank-0.done.json'), 'utf8')) as RankDone;
    return { code, dir, warnings, done };
  }

  it('runs: recall and the load time in the summary, and the collection deleted', async () => {
    const { code, dir, warnings } = await runnerRun('good', { operationMix: { search: 3, insert: 1 } });
    expect(warnings).toEqual([]);
    expect(code).toBe(RUNNER_EXIT.ok);
    const summary = JSON.parse(await readFile(join(dir, 'rank-0.summary.json'), 'utf8')) as RankSummary;
    expect(summary.totals.errors).toBe(0);
    expect(summary.operations.search.metrics.recall.count).toBeGreaterThan(0);
    expect(summary.operations.load.metrics.loadTime.count).toBe(1);
    expect((await srv.admin().listCollections()).map((c) => c.name)).not.toContain('aifb-good');
  });

  it('a collection of another dimension: a config failure (no retry can fix it) naming the field and the fix', async () => {
    const other = await srv.admin().createCollection({ name: 'dims-8', embeddingFunction: null });
    await other.add({ ids: ['a'], embeddings: [[1, 2, 3, 4, 5, 6, 7, 8]] });
    const { code, done } = await runnerRun('dims', { collection: 'dims-8' });
    expect(done.reason).toBe(
      'chromadb setup failed: workload.dimension: collection "dims-8" holds vectors of dimension 8; workload.dimension is 16: set workload.dimension to 8, or workload.collection to another name',
    );
    expect(code).toBe(RUNNER_EXIT.config);
  });

  it('nothing listening: a setup failure (the Service may come back) with the address', async () => {
    const port = await freeLocalPort();
    const { code, done } = await runnerRun('gone', {}, srv.service({ port }));
    expect(code).toBe(RUNNER_EXIT.setup);
    expect(done.reason).toBe(
      `chromadb setup failed: cannot reach ChromaDB at http://127.0.0.1:${port}: connection refused (nothing listens there) (ECONNREFUSED); check that the Service is running and its host and port are right`,
    );
  });
});
