// A user's path, end to end: the controller as a process, an example copied
// into its folder, status in the file, reports on disk, aifbctl, then delete.
import { copyFileSync, existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { aifbctl, api, isAlive, ROOT, startController, stopProcess, until, workspace, type ControllerProcess } from './harness.js';

let controller: ControllerProcess | undefined;
afterEach(async () => {
  if (controller) await stopProcess(controller.child);
  controller = undefined;
});

describe('a benchmark from file to report', () => {
  it('runs examples/quickstart.yaml to Succeeded, writes status and reports, and cleans up on delete', async () => {
    const ws = workspace();
    controller = await startController(ws);
    const original = readFileSync(join(ROOT, 'examples/quickstart.yaml'), 'utf8');
    const file = join(ws.resources, 'quickstart.yaml');
    copyFileSync(join(ROOT, 'examples/quickstart.yaml'), file);

    const running = await until('Running', async () => {
      const { body } = await api(controller!.url, '/api/v1/benchmarks/quickstart');
      return ['Running', 'Collecting', 'Succeeded'].includes(body.status?.phase) ? body : undefined;
    }, 30_000, 100);
    expect(running.metadata.generation).toBe(1);

    const done = await until('Succeeded', async () => {
      const { body } = await api(controller!.url, '/api/v1/benchmarks/quickstart');
      if (body.status?.phase === 'Failed') throw new Error(`benchmark failed: ${JSON.stringify(body.status)}`);
      return body.status?.phase === 'Succeeded' ? body : undefined;
    }, 60_000);
    expect(done.status.results.requests).toBeGreaterThan(0);
    expect(done.events.map((e: { reason: string }) => e.reason)).toEqual(expect.arrayContaining(['Accepted', 'Started', 'Succeeded']));

    // The file: every byte the user wrote is there unchanged, then a status block.
    const text = await until('status in the file', () => {
      const t = readFileSync(file, 'utf8');
      return parse(t).status?.phase === 'Succeeded' ? t : undefined;
    }, 10_000);
    expect(text.startsWith(original)).toBe(true);
    const status = parse(text).status;
    expect(status).toMatchObject({ phase: 'Succeeded', observedGeneration: 1, attempts: 1 });
    expect(status.conditions.map((c: { type: string }) => c.type)).toEqual(['Valid', 'Running', 'Complete']);
    expect(Date.parse(status.completedAt)).toBeGreaterThanOrEqual(Date.parse(status.startedAt));
    expect(status.results).toMatchObject({ requests: expect.any(Number), throughput: expect.any(Number), p99Ms: expect.any(Number) });

    // Reports on disk, with the guide's fields.
    const report = JSON.parse(readFileSync(status.reports.json, 'utf8'));
    expect(report.summary.total_requests).toBe(status.results.requests);
    expect(Object.keys(report.percentiles)).toEqual(expect.arrayContaining(['p50', 'p90', 'p95', 'p99', 'p999']));
    expect(readFileSync(status.reports.csv, 'utf8').split('\n')[0]).toMatch(/operation/);

    // aifbctl reads the same through the API.
    const get = await aifbctl(ws, ['get', 'benchmarks']);
    expect(get.code).toBe(0);
    const [header, row] = get.stdout.trim().split('\n');
    expect(header).toMatch(/^NAME\s+SERVICE\s+PHASE\s+REQS\s+RPS\s+P99\s+AGE$/);
    expect(row).toMatch(/^quickstart\s+file-storage\s+Succeeded\s+\d+/);

    // Delete: the file goes, the API forgets it, nothing of it stays launched.
    const del = await aifbctl(ws, ['delete', 'benchmark', 'quickstart']);
    expect(del.code, del.stderr).toBe(0);
    expect(existsSync(file)).toBe(false);
    await until('the API to forget it', async () => ((await api(controller!.url, '/api/v1/benchmarks/quickstart')).status === 404 ? true : undefined), 15_000);
    await until('the machine snapshot to go', () => (readdirSync(join(ws.state, 'machines')).length === 0 ? true : undefined), 10_000);
    expect(readdirSync(join(ws.state, 'procs'))).toEqual([]);
  });

  it('stops the runner when the file is deleted while it runs', async () => {
    const ws = workspace();
    controller = await startController(ws);
    const spec = readFileSync(join(ROOT, 'examples/quickstart.yaml'), 'utf8').replace('name: quickstart', 'name: long-run').replace('duration: 5s', 'duration: 5m');
    const file = join(ws.resources, 'long.yaml');
    writeFileSync(file, spec);
    await until('Running', async () => ((await api(controller!.url, '/api/v1/benchmarks/long-run')).body.status?.phase === 'Running' ? true : undefined), 30_000);
    const procs = join(ws.state, 'procs');
    const record = JSON.parse(readFileSync(join(procs, readdirSync(procs).find((f) => f.endsWith('.runner.json'))!), 'utf8'));
    const [pid] = record.pids as number[];
    expect(isAlive(pid)).toBe(true);
    rmSync(file);
    await until('the runner to be stopped', () => (!isAlive(pid) ? true : undefined), 20_000);
    await until('the API to forget it', async () => ((await api(controller!.url, '/api/v1/benchmarks/long-run')).status === 404 ? true : undefined), 10_000);
    await until('no launch left', () => (readdirSync(procs).length === 0 ? true : undefined), 10_000);
  });

  it('marks a bad file Invalid with the field path, without touching the spec, and keeps running', async () => {
    const ws = workspace();
    controller = await startController(ws);
    const bad = 'apiVersion: aifb.io/v1alpha1\nkind: Benchmark\nmetadata:\n  name: bad-one\nspec:\n  # a typo below\n  workload: { type: file-storage }\n  load: { duration: 1s, wrokers: 2 }\n';
    const file = join(ws.resources, 'bad.yaml');
    writeFileSync(file, bad);
    writeFileSync(join(ws.resources, 'broken.yaml'), 'apiVersion: aifb.io/v1alpha1\nkind: [unclosed\n');
    // The same name again, in a later file: the first definition wins, the second is told why.
    const twin = bad.replace('bad-one', 'twin').replace('wrokers', 'workers');
    writeFileSync(join(ws.resources, 'a-twin.yaml'), twin);
    const dupFile = join(ws.resources, 'zz-twin.yaml');
    writeFileSync(dupFile, twin);
    const text = await until('Invalid status in the file', () => {
      const t = readFileSync(file, 'utf8');
      return parse(t).status?.phase === 'Invalid' ? t : undefined;
    }, 20_000);
    expect(text.startsWith(bad)).toBe(true);
    const valid = parse(text).status.conditions.find((c: { type: string }) => c.type === 'Valid');
    expect(valid).toMatchObject({ status: 'False', reason: 'InvalidSpec' });
    expect(valid.message).toContain('spec.load: unknown field "wrokers"');
    const get = await aifbctl(ws, ['get', 'benchmarks']);
    expect(get.stdout).toMatch(/bad-one\s+file-storage\s+Invalid/);
    const problems = await api(controller!.url, '/api/v1/problems');
    expect(JSON.stringify(problems.body)).toMatch(/broken\.yaml/);
    expect(readFileSync(join(ws.resources, 'broken.yaml'), 'utf8')).toBe('apiVersion: aifb.io/v1alpha1\nkind: [unclosed\n');
    const dup = await until('the duplicate to be marked', () => parse(readFileSync(dupFile, 'utf8')).status, 10_000);
    expect(dup.conditions[0]).toMatchObject({ type: 'Valid', status: 'False', message: expect.stringContaining('metadata.name: Benchmark "twin" is already defined in a-twin.yaml') });
    expect(controller!.child.exitCode).toBeNull();
  });
});
