// A controller killed with SIGKILL mid-run: the next one adopts the running
// runner instead of launching a second, and finishes the benchmark.
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { api, isAlive, ROOT, startController, stopProcess, until, workspace, type ControllerProcess } from './harness.js';

const started: ControllerProcess[] = [];
afterEach(async () => {
  for (const c of started.splice(0)) await stopProcess(c.child);
});

describe('controller restart', () => {
  it('adopts the runner after SIGKILL and never launches it twice', async () => {
    const ws = workspace();
    const first = await startController(ws);
    started.push(first);
    const spec = readFileSync(join(ROOT, 'examples/quickstart.yaml'), 'utf8').replace('name: quickstart', 'name: survivor').replace('duration: 5s', 'duration: 8s');
    writeFileSync(join(ws.resources, 'survivor.yaml'), spec);
    await until('Running', async () => ((await api(first.url, '/api/v1/benchmarks/survivor')).body.status?.phase === 'Running' ? true : undefined), 30_000);
    // Machine snapshots are written coalesced (200 ms): a kill before that loses the transition by design,
    // and the next controller starts the attempt over instead of resuming it. Kill once it is on disk.
    const snapshot = join(ws.state, 'machines', 'Benchmark.survivor.json');
    await until('the running snapshot on disk', () => (existsSync(snapshot) && readFileSync(snapshot, 'utf8').includes('"running"') ? true : undefined), 10_000, 50);
    const procs = join(ws.state, 'procs');
    const recordFile = readdirSync(procs).find((f) => f.endsWith('.runner.json'))!;
    const [pid] = JSON.parse(readFileSync(join(procs, recordFile), 'utf8')).pids as number[];

    await stopProcess(first.child, 'SIGKILL');
    expect(isAlive(pid)).toBe(true);

    const second = await startController(ws);
    started.push(second);
    const done = await until('Succeeded', async () => {
      const { body } = await api(second.url, '/api/v1/benchmarks/survivor');
      if (body.status?.phase === 'Failed') throw new Error(JSON.stringify(body.status));
      return body.status?.phase === 'Succeeded' ? body : undefined;
    }, 60_000);
    expect(done.status.attempts).toBe(1);
    expect(done.events.map((e: { reason: string }) => e.reason)).toContain('Resumed');
    // One run folder, one runner start: nothing was launched twice.
    const runs = readdirSync(join(ws.state, 'runs', 'survivor'));
    expect(runs).toEqual(['survivor-g1-a1']);
    const stdout = readFileSync(join(ws.state, 'runs', 'survivor', runs[0], 'runner.stdout.log'), 'utf8');
    expect(stdout.split('\n').filter((l) => l.includes('"event":"started"'))).toHaveLength(1);
    expect(second.logs()).not.toMatch(/Launched runner/);
  });
});
