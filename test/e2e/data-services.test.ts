// The data-service examples end to end, as a user runs them: each example's
// files copied into the watched folder (durations and sizes cut down, ports
// left to the local executor), the controller starts PostgreSQL, s3rver and
// `chroma run` natively, the runners benchmark them, and afterwards the data
// each benchmark made is gone from the real servers. Faiss needs no Service.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseAllDocuments, stringify } from 'yaml';
import { api, killLaunches, ROOT, startController, stopProcess, until, workspace, type ControllerProcess, type Workspace } from './harness.js';
import { Client, s3sdk } from './server-clients.js';

let controller: ControllerProcess | undefined;
let ws: Workspace | undefined;
afterEach(async () => {
  if (controller) await stopProcess(controller.child);
  if (ws) killLaunches(ws);
  controller = undefined;
  ws = undefined;
});

type Doc = { kind: string; metadata: { name: string }; spec: Record<string, any> };

/** An example's resources, shortened for a test: `edit` changes each Benchmark's spec; Services lose their fixed port. */
function example(file: string, edit: (spec: Record<string, any>) => void): Doc[] {
  const docs = parseAllDocuments(readFileSync(join(ROOT, 'examples', file), 'utf8')).map((d) => d.toJS() as Doc);
  for (const d of docs) {
    if (d.kind === 'Service') delete d.spec.port;
    if (d.kind === 'Benchmark') {
      d.spec.load = { ...d.spec.load, warmup: '500ms', duration: '3s' };
      delete d.spec.slo;
      edit(d.spec);
    }
  }
  return docs;
}

/** The benchmark's status once Succeeded, and its JSON report (which has every metric's count and sum). */
async function succeeded(name: string): Promise<{ status: any; report: any }> {
  const status = await until(`${name} Succeeded`, async () => {
    const { body } = await api(controller!.url, `/api/v1/benchmarks/${name}`);
    if (body.status?.phase === 'Failed') throw new Error(`${name} failed: ${JSON.stringify(body.status)}`);
    return body.status?.phase === 'Succeeded' ? body.status : undefined;
  }, 240_000, 500);
  return { status, report: JSON.parse(readFileSync(status.reports.json, 'utf8')) };
}

async function endpointOf(service: string): Promise<{ host: string; port: number; database?: string; credentials: { user: string; password: { file: string } } }> {
  const { body } = await api(controller!.url, `/api/v1/services/${service}`);
  return body.status.endpoint;
}

describe('the data-service examples through the controller', () => {
  it('postgresql, minio (s3rver), chromadb and faiss run to Succeeded against real servers, count what they did, score recall, and leave no data behind', async () => {
    ws = workspace();
    controller = await startController(ws);
    const docs = [
      ...example('postgresql.yaml', (s) => (s.workload.rows = 2000)),
      ...example('minio.yaml', (s) => {
        s.workload.objectSizes = { '1KB': 0.5, '10MB': 0.5 }; // 10MB goes up in parts
        s.workload.prefill = 4;
        s.load.rate = 20;
      }),
      ...example('chromadb.yaml', (s) => {
        s.workload.data.count = 2000;
        s.workload.queries.count = 200;
        s.load.workers = 2;
        s.load.sweep.parameter.values = [10, 100];
      }),
      ...example('faiss.yaml', (s) => (s.load.sweep.parameter.values = [128])),
    ];
    // Flat beside the example's HNSW: exact search, so its recall must be 1.
    const flat = structuredClone(docs.find((d) => d.metadata.name === 'faiss-hnsw')!);
    flat.metadata.name = 'faiss-flat';
    flat.spec.workload.index = 'Flat';
    delete flat.spec.load.sweep;
    docs.push(flat);
    writeFileSync(join(ws.resources, 'data-services.yaml'), docs.map((d) => stringify(d)).join('---\n'));

    const pg = await succeeded('postgresql-mix');
    expect(pg.status.results.errors).toBe(0);
    expect(pg.status.results.requests).toBeGreaterThan(100);
    // Every statement found its row; each of the 8 workers' connections timed once, apart from the run.
    expect(pg.report.metrics.rows.sum).toBe(pg.status.results.requests);
    expect(pg.report.metrics.connect.count).toBe(8);

    const s3 = await succeeded('minio-load');
    expect(s3.status.results.errors).toBe(0);
    // 20 req/s for 3 s, half of the puts 10MB multipart uploads: on a busy machine many arrivals find 16 in flight and are dropped.
    expect(s3.status.results.requests).toBeGreaterThan(5);
    expect(s3.status.results.requests + s3.report.summary.dropped_requests).toBeGreaterThan(40);
    expect(s3.report.metrics.ttfb.count).toBeGreaterThan(0);
    expect(s3.report.metrics.parts.sum).toBeGreaterThan(0);

    const chroma = await succeeded('chromadb-hnsw');
    expect(chroma.status.results.errors).toBe(0);
    // One row per efSearch, each with its recall: the recall/QPS trade-off, ready to plot.
    const points = chroma.report.sweep.points as Array<{ parameter: { name: string; value: number }; throughput: number; values: { recall: { mean: number; count: number } } }>;
    expect(points.map((p) => p.parameter)).toEqual([
      { name: 'efSearch', value: 10 },
      { name: 'efSearch', value: 100 },
    ]);
    for (const p of points) {
      expect(p.throughput).toBeGreaterThan(0);
      expect(p.values.recall.count).toBeGreaterThan(5);
    }
    expect(points[1].values.recall.mean).toBeGreaterThan(0.8);

    const hnsw = await succeeded('faiss-hnsw');
    expect(hnsw.status.results.errors).toBe(0);
    expect(hnsw.report.metrics.recall.mean).toBeGreaterThan(0.8);
    expect(hnsw.report.metrics.recall.mean).toBeLessThanOrEqual(1);
    expect(hnsw.report.metrics.buildTime.count).toBe(1);
    const exact = await succeeded('faiss-flat');
    expect(exact.status.results.errors).toBe(0);
    expect(exact.report.metrics.recall.mean).toBe(1);
    expect(exact.report.metrics.recall.count).toBeGreaterThan(50);

    // Nothing left on the servers: the benchmark table, the bucket, the collection.
    const db = await endpointOf('postgres');
    const client = new Client({ host: db.host, port: db.port, user: db.credentials.user, password: readFileSync(db.credentials.password.file, 'utf8').trim(), database: db.database });
    await client.connect();
    const tables = await client.query("SELECT relname FROM pg_class WHERE relname LIKE 'aifb_bench%'");
    await client.end();
    expect(tables.rows).toEqual([]);

    const objects = await endpointOf('minio');
    const store = new s3sdk.S3Client({
      endpoint: `http://${objects.host}:${objects.port}`,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: objects.credentials.user, secretAccessKey: readFileSync(objects.credentials.password.file, 'utf8').trim() },
    });
    const buckets = await store.send(new s3sdk.ListBucketsCommand({}));
    expect((buckets.Buckets ?? []).map((b: { Name: string }) => b.Name)).not.toContain('aifb-bench');

    const vectors = await endpointOf('chromadb');
    const res = await fetch(`http://${vectors.host}:${vectors.port}/api/v2/tenants/default_tenant/databases/default_database/collections`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual([]);
  }, 400_000);
});

describe('bad input to the data-service workloads, through the controller', () => {
  it('a wrong password, an index Faiss rejects and a truncated vector file each end their benchmark with the field and the fix; the controller carries on', async () => {
    ws = workspace();
    controller = await startController(ws);
    const vectors = join(ws.resources, '..', 'short.fvecs');
    // An .fvecs record is a little-endian int32 dimension, then that many float32s: this one stops short.
    const record = Buffer.alloc(4 + 4 * 8);
    record.writeInt32LE(8, 0);
    writeFileSync(vectors, Buffer.concat([record, record.subarray(0, 20)]));
    const wrongPassword = join(ws.resources, '..', 'wrong-password');
    writeFileSync(wrongPassword, 'not-the-password\n', { mode: 0o600 });
    const bench = (name: string, spec: string) => `apiVersion: aifb.io/v1alpha1\nkind: Benchmark\nmetadata:\n  name: ${name}\nspec:\n${spec}  load: { mode: closed, workers: 1, duration: 1s }\n  retries: { max: 0 }\n`;
    const vectorsFrom = `data: { file: ${vectors} }, queries: { file: ${vectors} }`;
    writeFileSync(
      join(ws.resources, 'bad.yaml'),
      [
        `apiVersion: aifb.io/v1alpha1\nkind: Service\nmetadata:\n  name: pg\nspec:\n  type: postgresql\n  readiness: { interval: 500ms, timeout: 2m }\n`,
        bench('bad-index', '  workload: { type: faiss, index: HNSWxyz, dimension: 8, data: { count: 100 }, operationMix: { search: 1 } }\n'),
        bench('short-file', `  workload: { type: faiss, index: Flat, dimension: 8, ${vectorsFrom}, operationMix: { search: 1 } }\n`),
        bench('fine', '  workload: { type: faiss, index: Flat, dimension: 8, data: { count: 500 }, queries: { count: 50 }, operationMix: { search: 1 } }\n'),
      ].join('---\n'),
    );
    const db = await until('pg Ready', async () => {
      const { body } = await api(controller!.url, '/api/v1/services/pg');
      return body.status?.phase === 'Ready' ? body.status.endpoint : undefined;
    }, 120_000, 300);
    // The same server, reached as an existing one with a password it refuses.
    writeFileSync(
      join(ws.resources, 'wrong-password.yaml'),
      [
        `apiVersion: aifb.io/v1alpha1\nkind: Service\nmetadata:\n  name: pg-elsewhere\nspec:\n  type: postgresql\n  endpoint: { host: ${db.host}, port: ${db.port} }\n  database: ${db.database}\n  credentials: { user: ${db.credentials.user}, password: { file: ${wrongPassword} } }\n`,
        bench('wrong-password', '  serviceRef: pg-elsewhere\n  workload: { type: postgresql, rows: 10 }\n'),
      ].join('---\n'),
    );

    const ended = async (name: string, phase: string) =>
      until(`${name} ${phase}`, async () => {
        const { body } = await api(controller!.url, `/api/v1/benchmarks/${name}`);
        return body.status?.phase === phase ? body.status : undefined;
      }, 120_000, 300);
    const short = await ended('short-file', 'Invalid');
    expect(short.message).toMatch(/workload\.data\.file/);
    expect(short.message).toContain(vectors);
    const badIndex = await ended('bad-index', 'Failed');
    expect(badIndex.message).toMatch(/workload\.index: Faiss's index factory cannot make "HNSWxyz"/);
    expect(badIndex.attempts).toBe(1);
    const wrong = await ended('wrong-password', 'Failed');
    expect(wrong.message).toMatch(/refused the password of user "aifb"/);
    expect(wrong.message).toContain(wrongPassword);
    expect(JSON.stringify(wrong)).not.toContain('not-the-password');
    const fine = await ended('fine', 'Succeeded');
    expect(fine.results.errors).toBe(0);
  }, 300_000);
});
