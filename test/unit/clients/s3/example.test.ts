// examples/minio.yaml as a user copies it: its Benchmark points at the minio
// Service beside it, and its workload, exactly as written and round-tripped
// through the runner's spec.json, runs against s3rver through the registry,
// with the secret read from where the Service's credentials point.
import { readFileSync } from 'node:fs';
import { ListBucketsCommand } from '@aws-sdk/client-s3';
import { parseAllDocuments } from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { Load } from '../../../../api/schemas.js';
import type { BenchmarkResource, Resource } from '../../../../controller/api/schemas.js';
import { validateResource } from '../../../../controller/api/validate.js';
import type { BenchmarkClient } from '../../../../clients/client.js';
import { systemClock } from '../../../../clients/engine/clock.js';
import { runLoad } from '../../../../clients/engine/engine.js';
import { createClient, RunnerSpec, serviceMismatch } from '../../../../clients/registry.js';
import { checkSpec, encodeSpec } from '../../../../clients/runner/spec.js';
import { S3_METRICS } from '../../../../clients/s3/index.js';
import { S3RVER_KEY, startS3rver, type RunningS3rver } from './s3rver.js';

function resources(file: string): Resource[] {
  return parseAllDocuments(readFileSync(`examples/${file}`, 'utf8')).map((d) => {
    const r = validateResource(d.toJS());
    if (!r.ok) throw new Error(`examples/${file}: ${JSON.stringify(r.problems)}`);
    return r.resource;
  });
}

let srv: RunningS3rver | undefined;
let client: BenchmarkClient | undefined;
afterEach(async () => {
  await client?.teardown();
  await srv?.close();
  delete process.env.AIFB_TEST_S3_SECRET;
});

describe('examples/minio.yaml', () => {
  it('its Benchmark talks s3 to the minio Service beside it, and its workload runs against s3rver', async () => {
    const all = resources('minio.yaml');
    const benchmark = all.find((r): r is BenchmarkResource => r.kind === 'Benchmark')!;
    const service = all.find((r) => r.kind === 'Service' && r.metadata.name === benchmark.spec.serviceRef);
    expect(service?.kind === 'Service' && service.spec).toMatchObject({ type: 'minio' });
    expect(service?.kind === 'Service' && (service.spec.image ?? service.spec.command)).toBeUndefined();
    expect(benchmark.spec.workload.type).toBe('s3');
    expect(serviceMismatch(benchmark.spec.workload, 'minio')).toBeUndefined();
    expect(serviceMismatch(benchmark.spec.workload, 's3')).toBeUndefined();

    srv = await startS3rver();
    process.env.AIFB_TEST_S3_SECRET = S3RVER_KEY;
    const load = Load.parse({ mode: 'closed', workers: 4, maxRequests: 60, seed: 7 });
    const written: RunnerSpec = { benchmark: benchmark.metadata.name, runId: 'minio-load-g1-a1', ranks: 1, workload: benchmark.spec.workload, load, service: srv.service() };
    const read = checkSpec(JSON.parse(JSON.stringify(encodeSpec(written))));
    expect(read.ok).toBe(true);
    if (!read.ok) return;
    client = await createClient(read.spec, { rank: 0 });
    await client.setup();
    const r = await runLoad({ client, metrics: S3_METRICS, load, ranks: 1, rank: 0, clock: systemClock });
    expect(r.totals).toMatchObject({ requests: 60, errors: 0 });
    expect(r.operations.put.metrics.bytes.sum).toBeGreaterThan(0);
    await client.teardown();
    client = undefined;
    // The example's bucket was made for the run, and is gone with it.
    expect(((await srv.admin().send(new ListBucketsCommand({}))).Buckets ?? []).map((b) => b.Name)).not.toContain('aifb-bench');
  });
});
