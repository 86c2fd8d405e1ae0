// `aifbctl run -f FILE` as a user meets it: the built CLI, a real service
// (an in-test HTTP server, or one aifbctl starts itself), the real runner.
// Each exit code of RUN_HELP is reached by the situation it names.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createConnection, createServer as createNetServer } from 'node:net';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { aifbctl, CLI, ROOT, until, workspace, type Workspace } from './harness.js';

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise<void>((r) => s.close(() => r()));
});

/** Answers after `delayMs`; every `failEvery`-th request with a 500. */
async function webServer(delayMs = 1, failEvery = 0): Promise<number> {
  let n = 0;
  const server = createServer((_req, res) => {
    const fail = failEvery > 0 && ++n % failEvery === 0;
    setTimeout(() => res.writeHead(fail ? 500 : 200).end('ok'), delayMs);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  servers.push(server);
  return (server.address() as { port: number }).port;
}

function benchFile(ws: Workspace, port: number, extra = '', load = '{ mode: closed, workers: 2, duration: 2s }'): string {
  const file = join(ws.dir, 'bench.yaml');
  writeFileSync(
    file,
    `apiVersion: aifb.io/v1alpha1
kind: Service
metadata: { name: web }
spec:
  type: http
  endpoint: { host: 127.0.0.1, port: ${port} }
---
apiVersion: aifb.io/v1alpha1
kind: Benchmark
metadata: { name: fg }
spec:
  serviceRef: web
  workload: { type: http, requests: [{ name: get, path: / }] }
  load: ${load}
${extra}`,
  );
  return file;
}

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createNetServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });

const run = (ws: Workspace, args: string[]) => aifbctl(ws, ['run', ...args]);

function savedRuns(ws: Workspace): { run_id: string; requests: number }[] {
  const db = new Database(join(ws.state, 'results.db'), { readonly: true });
  try {
    return db.prepare('SELECT run_id, requests FROM runs').all() as { run_id: string; requests: number }[];
  } finally {
    db.close();
  }
}

describe('aifbctl run', () => {
  it('runs a benchmark to the end, prints the summary and where the reports are, and saves the run: exit 0', async () => {
    const ws = workspace();
    const r = await run(ws, ['-f', benchFile(ws, await webServer())]);
    expect(r.stderr).toContain('Running fg (run fg-run-');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/fg: results/);
    expect(r.stdout).toMatch(/^Successful requests:\s+\d+$/m);
    const json = /^json\s+(\S+)$/m.exec(r.stdout)![1];
    const report = JSON.parse(readFileSync(json, 'utf8'));
    expect(report.summary.total_requests).toBeGreaterThan(100);
    expect(savedRuns(ws)).toEqual([{ run_id: report.benchmark_id, requests: report.summary.total_requests }]);
    // Plain progress lines when stderr is not a terminal.
    expect(r.stderr).toMatch(/^\s*\d+%\s+\d+\.\ds\/2\.0s\s+\d+ req\s+\d+ req\/s\s+p99 [\d.]+ms/m);
  }, 60_000);

  it('exits 99 when the SLO is missed, and 98 when requests failed and no SLO judged them', async () => {
    const ws = workspace();
    const slow = await run(ws, ['-f', benchFile(ws, await webServer(20), '  slo: { p99: 5ms }')]);
    expect(slow.code).toBe(99);
    expect(slow.stdout).toMatch(/^SLO:\s+FAILED$/m);
    const failing = await run(ws, ['-f', benchFile(ws, await webServer(1, 4))]);
    expect(failing.code).toBe(98);
    expect(failing.stdout).toMatch(/^Failed requests:\s+[1-9]\d*$/m);
  }, 60_000);

  it('exits 2 on a bad file, naming the field and the fix, and runs nothing', async () => {
    const ws = workspace();
    const bad = await run(ws, ['-f', benchFile(ws, 1, '', '{ mode: closed, workers: 0, duration: 2s }')]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/bench\.yaml: Benchmark\/fg: spec\.load\.workers: /);
    const missing = await run(ws, ['-f', join(ws.dir, 'nope.yaml')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/cannot read .*nope\.yaml \(ENOENT\); give a resource file with -f/);
    const file = join(ws.dir, 'orphan.yaml');
    writeFileSync(file, readFileSync(benchFile(ws, 1), 'utf8').split('---')[1]);
    const orphan = await run(ws, ['-f', file]);
    expect(orphan.code).toBe(2);
    expect(orphan.stderr).toMatch(/spec\.serviceRef: no Service named "web" in .*orphan\.yaml; put the Service in the same file, or use spec\.service inline/);
    expect(existsSync(join(ws.state, 'runs'))).toBe(false);
  }, 60_000);

  it('stops on Ctrl-C, keeps and reports what was measured: exit 130', async () => {
    const ws = workspace();
    const file = benchFile(ws, await webServer(), '', '{ mode: closed, workers: 2, duration: 60s }');
    const child = spawn(process.execPath, [CLI, '--resources', ws.resources, '--state', ws.state, 'run', '-f', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    await until('progress', () => (/\d+ req\/s/.test(err) ? true : undefined), 20_000);
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(err).toContain('Stopping: the runner writes what it measured so far');
    expect(out).toContain('fg: stopped early, partial results');
    const report = JSON.parse(readFileSync(/^json\s+(\S+)$/m.exec(out)![1], 'utf8'));
    expect(report.endedBy).toBe('signal');
    expect(report.summary.total_requests).toBeGreaterThan(0);
  }, 60_000);

  it('starts the service the file describes and stops it afterwards (examples/http.yaml)', async () => {
    const ws = workspace();
    // The example on a free port: another test runs it on 18080 at the same time.
    const port = await freePort();
    const example = readFileSync(join(ROOT, 'examples/http.yaml'), 'utf8');
    expect(example.match(/18080/g)).toHaveLength(2);
    const file = join(ws.dir, 'http.yaml');
    writeFileSync(file, example.replaceAll('18080', String(port)));
    const r = await run(ws, ['-f', file]);
    expect(r.stderr).toContain('Starting service web (http)...');
    // Its SLO (p99 under 50 ms) may be missed on a busy machine; either way it ran to the end.
    expect([0, 99]).toContain(r.code);
    expect(r.stdout).toMatch(/http-load: results/);
    const open = await new Promise<boolean>((resolve) => {
      const s = createConnection({ host: '127.0.0.1', port }, () => (s.destroy(), resolve(true)));
      s.on('error', () => resolve(false));
    });
    expect(open).toBe(false);
    expect(readdirSync(ws.state)).not.toContain('foreground');
  }, 90_000);
});
