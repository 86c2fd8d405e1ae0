// The controller with the SLURM executor against the real single-node SLURM:
// services and runners as batch jobs, failures injected through SLURM itself.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { api, startController, stopProcess, until, workspace, type ControllerProcess, type Workspace } from '../e2e/harness.js';
import { allJobs, cancelAifbJobs, envWithFakes, requireSlurm, setNode, SIF_CACHE } from './slurm-harness.js';

const started: ControllerProcess[] = [];
/** scripts/slurm-up.sh's job_submit.lua refuses the job names listed here, as a QOS submit limit would. */
const SUBMIT_LIMIT_FILE = '/var/lib/aifb-slurm/submit-limit';
let stateOfNode: 'down' | 'up' = 'up';

beforeAll(() => requireSlurm());
afterEach(async () => {
  for (const c of started.splice(0)) await stopProcess(c.child);
  if (stateOfNode === 'down') setNode('resume');
  stateOfNode = 'up';
  cancelAifbJobs();
});
afterAll(() => cancelAifbJobs());

async function controllerOn(ws: Workspace, fakeLog?: string, extraEnv: Record<string, string> = {}): Promise<ControllerProcess> {
  const env: Record<string, string> = { ...envWithFakes(), ...extraEnv };
  if (fakeLog) env.AIFB_FAKE_APPTAINER_LOG = fakeLog;
  const c = await startController(ws, ['--executor', 'slurm', '--poll', '1s'], env);
  started.push(c);
  return c;
}

function benchmarkYaml(name: string, opts: { duration?: string; serviceRef?: string; retries?: number; workload?: string } = {}): string {
  return [
    'apiVersion: aifb.io/v1alpha1',
    'kind: Benchmark',
    'metadata:',
    `  name: ${name}`,
    'spec:',
    ...(opts.serviceRef ? [`  serviceRef: ${opts.serviceRef}`] : []),
    `  workload: ${opts.workload ?? '{ type: file-storage, basePath: /tmp/aifb-slurm-test }'}`,
    `  load: { workers: 2, duration: ${opts.duration ?? '3s'} }`,
    `  retries: { max: ${opts.retries ?? 2}, backoff: 1s }`,
    '',
  ].join('\n');
}

async function phaseOf(c: ControllerProcess, kind: string, name: string): Promise<any> {
  return (await api(c.url, `/api/v1/${kind}/${name}`)).body;
}

async function waitPhase(c: ControllerProcess, kind: string, name: string, phases: string[], ms = 90_000): Promise<any> {
  return until(`${kind}/${name} in ${phases.join('|')}`, async () => {
    const v = await phaseOf(c, kind, name);
    return phases.includes(v.status?.phase) ? v : undefined;
  }, ms, 300);
}

/** Every regular file below dir. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}

// Pinned service ports sit below the kernel's range for clients' ports (32768-60999 here): a port
// in it may be held by any connection (SLURM's own RPCs among them), and a server cannot bind it
// until that is gone (the serve wrapper waits for it, containers/serve-script.ts).
describe('controller with the SLURM executor', { timeout: 240_000 }, () => {
  it('runs a service (container through apptainer, GPU) and its benchmark as jobs, and cancels the service when deleted', async () => {
    const ws = workspace();
    const fakeLog = join(ws.dir, 'apptainer.jsonl');
    const c = await controllerOn(ws, fakeLog);
    // The vllm image runs test/fakes/vllm (the fake OpenAI server) under the stand-in apptainer.
    // Its API key is a file reference: the server and the runner read it, nothing else holds it.
    const token = `tok-${randomBytes(12).toString('hex')}`;
    const keyFile = join(ws.dir, 'vllm-key');
    writeFileSync(keyFile, `${token}\n`, { mode: 0o600 });
    writeFileSync(
      join(ws.resources, 'db.yaml'),
      [
        'apiVersion: aifb.io/v1alpha1',
        'kind: Service',
        'metadata:',
        '  name: db',
        'spec:',
        '  type: vllm',
        '  port: 25432',
        '  gpus: 1',
        '  env: { EXTRA: "$(touch /tmp/aifb-pwned) `id`" }',
        `  credentials: { token: { file: ${keyFile} } }`,
        '  readiness: { timeout: 60s, interval: 1s }',
        '',
      ].join('\n'),
    );
    writeFileSync(join(ws.resources, 'load.yaml'), benchmarkYaml('load', { serviceRef: 'db', workload: '{ type: llm, maxTokens: 4 }' }));
    const svc = await waitPhase(c, 'services', 'db', ['Ready', 'Failed']);
    expect(svc.status.phase, JSON.stringify(svc.status)).toBe('Ready');
    expect(svc.status.endpoint.port).toBe(25432);
    const bench = await waitPhase(c, 'benchmarks', 'load', ['Succeeded', 'Failed']);
    expect(bench.status.phase, JSON.stringify(bench.status)).toBe('Succeeded');
    // The LLM metrics travelled from the runner job to the status block.
    expect(bench.status.results.metrics.outputTokens).toMatchObject({ unit: 'tokens', p50: 4 });
    expect(bench.status.results.metrics.ttft.p50).toBeGreaterThan(0);

    // What was submitted: tagged jobs, the GPU asked for, the script kept beside the run.
    // Jobs of earlier runs may still be listed: only this run's resources count (by uid).
    const uids = [svc.metadata.uid, bench.metadata.uid];
    const jobs = allJobs().filter((j) => uids.some((u) => j.comment.includes(u)));
    // One service job: a second would be a retry, and the attempts' logs say why.
    const logOf = (attempt: string) => join(ws.state, 'services', 'db', attempt, 'service.stderr.log');
    const attempts = readdirSync(join(ws.state, 'services', 'db')).map((a) => `${a}: ${existsSync(logOf(a)) ? readFileSync(logOf(a), 'utf8') : '(no log)'}`);
    expect(jobs.map((j) => j.name).sort(), attempts.join('\n')).toEqual(['aifb-benchmark-load', 'aifb-service-db']);
    expect(jobs.find((j) => j.name === 'aifb-service-db')!.comment).toMatch(/kind=Service/);
    const serviceDir = join(ws.state, 'services', 'db', 'g1-a1');
    const script = readFileSync(join(serviceDir, 'service.sbatch'), 'utf8');
    expect(script).toMatch(/^#SBATCH --gres=gpu:1$/m);
    expect(script).toMatch(/^#SBATCH --job-name=aifb-service-db$/m);
    const argv = JSON.parse(readFileSync(fakeLog, 'utf8').trim().split('\n')[0]);
    expect(argv.argv ?? argv).toEqual(expect.arrayContaining(['run', '--nv', join(SIF_CACHE, 'vllm.sif')]));
    expect(existsSync('/tmp/aifb-pwned')).toBe(false);
    // The token reached the server (it answered the runner) and no file of the controller's holds it.
    expect(svc.status.endpoint.credentials).toEqual({ token: { file: keyFile } });
    expect(readFileSync(join(ws.state, 'services', 'db', 'g1-a1', 'service.stdout.log'), 'utf8')).toMatch(/api-key=required/);
    const holders = filesUnder(ws.dir).filter((f) => f !== keyFile && readFileSync(f).includes(token));
    expect(holders).toEqual([]);

    // Deleting the service cancels its job.
    const serviceJob = jobs.find((j) => j.name === 'aifb-service-db')!;
    execFileSync('rm', [join(ws.resources, 'db.yaml')]);
    await until('the service job to end', () => {
      const j = allJobs().find((x) => x.jobId === serviceJob.jobId);
      return !j || !['RUNNING', 'PENDING', 'COMPLETING'].includes(j.state) ? true : undefined;
    }, 60_000);
  });

  it('starts an inline service for its benchmark and cancels it when the benchmark ends', async () => {
    const ws = workspace();
    const c = await controllerOn(ws);
    const yaml = benchmarkYaml('owner', { duration: '2s', workload: '{ type: llm, maxTokens: 2 }' }).replace(
      '  workload:',
      '  service:\n    type: vllm\n    port: 25433\n    readiness: { timeout: 60s, interval: 1s }\n  workload:',
    );
    writeFileSync(join(ws.resources, 'owner.yaml'), yaml);
    const svc = await waitPhase(c, 'services', 'owner-svc', ['Ready', 'Failed']);
    expect(svc.status.phase, JSON.stringify(svc.status)).toBe('Ready');
    expect(svc.metadata.labels).toEqual({ 'aifb.io/owner': 'owner' });
    const done = await waitPhase(c, 'benchmarks', 'owner', ['Succeeded', 'Failed']);
    expect(done.status.phase, JSON.stringify(done.status)).toBe('Succeeded');
    expect(done.status.conditions.find((x: any) => x.type === 'ServiceReady')).toMatchObject({ status: 'True' });
    await until('the owned service job to end', () => {
      const j = allJobs().find((x) => x.name === 'aifb-service-owner-svc' && x.comment.includes(svc.metadata.uid));
      return j && !['RUNNING', 'PENDING', 'COMPLETING'].includes(j.state) ? true : undefined;
    }, 60_000);
    await until('the owned service to go from the API', async () => ((await api(c.url, '/api/v1/services/owner-svc')).status === 404 ? true : undefined), 30_000);
    // Its status never went into the user's file: only the benchmark's did.
    expect(readFileSync(join(ws.resources, 'owner.yaml'), 'utf8').match(/^status:/gm)).toHaveLength(1);
  });

  it('fails a service whose image cannot be pulled at once, with the reason, without retrying', async () => {
    const ws = workspace();
    const c = await controllerOn(ws);
    writeFileSync(
      join(ws.resources, 'bad.yaml'),
      ['apiVersion: aifb.io/v1alpha1', 'kind: Service', 'metadata:', '  name: badimage', 'spec:', '  type: postgresql', '  image: docker://example.org/does-not-exist:1', '  retries: { max: 3, backoff: 1s }', ''].join('\n'),
    );
    const svc = await waitPhase(c, 'services', 'badimage', ['Failed', 'Ready'], 60_000);
    expect(svc.status.phase).toBe('Failed');
    expect(svc.status.attempts).toBe(1);
    expect(svc.status.conditions.find((x: any) => x.type === 'Ready')).toMatchObject({ status: 'False', reason: 'BadImage' });
    expect(svc.status.message).toMatch(/could not pull image/);
  });

  it('fails a service whose catalog image is not in the SIF cache at once, with the containers/pull.sh command, submitting nothing', async () => {
    const ws = workspace();
    const emptyCache = join(ws.dir, 'sif');
    const c = await controllerOn(ws, undefined, { AIFB_SIF_CACHE: emptyCache });
    writeFileSync(join(ws.resources, 'nosif.yaml'), ['apiVersion: aifb.io/v1alpha1', 'kind: Service', 'metadata:', '  name: nosif', 'spec:', '  type: ollama', '  retries: { max: 3, backoff: 1s }', ''].join('\n'));
    const failed = await waitPhase(c, 'services', 'nosif', ['Failed', 'Ready'], 60_000);
    expect(failed.status.phase).toBe('Failed');
    expect(failed.status.message).toContain(`the ollama image is not in the SIF cache (${join(emptyCache, 'ollama.sif')}): run \`containers/pull.sh ollama\``);
    expect(failed.status.attempts).toBe(1);
    expect(allJobs().filter((j) => j.comment.includes(failed.metadata.uid))).toEqual([]);
  });

  it('runs a multi-rank load with srun, two threads a task, each rank leaving its own results, merged into one', async () => {
    const ws = workspace();
    const c = await controllerOn(ws);
    writeFileSync(join(ws.resources, 'ranks.yaml'), `${benchmarkYaml('ranks', { duration: '3s' })}  runner: { nodes: 1, tasksPerNode: 2, threads: 2 }\n`);
    const done = await waitPhase(c, 'benchmarks', 'ranks', ['Succeeded', 'Failed']);
    expect(done.status.phase, JSON.stringify(done.status)).toBe('Succeeded');
    const runDir = join(ws.state, 'runs', 'ranks', 'ranks-g1-a1');
    expect(readFileSync(join(runDir, 'runner.sbatch'), 'utf8')).toMatch(/^srun --nodes=1 --ntasks-per-node=2 /m);
    // Two tasks, two ranks each: task 1 runs ranks 2 and 3, and its stdout carries both.
    const ranksIn = (task: number) => [...new Set(readFileSync(join(runDir, `runner.${task}.stdout.log`), 'utf8').trim().split('\n').map((l) => JSON.parse(l).rank as number))].sort();
    expect([ranksIn(0), ranksIn(1)]).toEqual([[0, 1], [2, 3]]);
    const requests = [0, 1, 2, 3].map((r) => JSON.parse(readFileSync(join(runDir, `rank-${r}.summary.json`), 'utf8')).totals.requests as number);
    expect(requests.every((n) => n > 0)).toBe(true);
    expect(done.status.results.requests).toBe(requests.reduce((a, b) => a + b, 0));
  });

  it('shows why a job waits in the queue, and cancels it after spec.slurm.maxPendingTime', async () => {
    const ws = workspace();
    const c = await controllerOn(ws);
    writeFileSync(
      join(ws.resources, 'held.yaml'),
      [
        'apiVersion: aifb.io/v1alpha1',
        'kind: Service',
        'metadata:',
        '  name: held',
        'spec:',
        '  type: postgresql',
        '  port: 25434',
        '  retries: { max: 3, backoff: 1s }',
        '  slurm: { maxPendingTime: 8s, extraDirectives: ["--begin=now+1hour"] }',
        '',
      ].join('\n'),
    );
    const waiting = await until('the pending reason in status', async () => {
      const v = await phaseOf(c, 'services', 'held');
      return v.status?.jobs?.[0]?.state === 'pending' && /BeginTime/.test(v.status.jobs[0].reason) ? v : undefined;
    }, 30_000);
    expect(waiting.status.jobs[0].reason).toMatch(/BeginTime/);
    expect(waiting.status.message).toMatch(/waiting in the queue \(reason: BeginTime\)/);
    const failed = await waitPhase(c, 'services', 'held', ['Failed'], 60_000);
    expect(failed.status.conditions.find((x: any) => x.type === 'Ready')).toMatchObject({ reason: 'PendingTooLong' });
    expect(failed.status.attempts).toBe(1);
    const job = allJobs().find((j) => j.name === 'aifb-service-held' && j.comment.includes(failed.metadata.uid));
    expect(job?.state).toBe('CANCELLED');
  });

  it("fails a runner job that can never start (a time above its partition's MaxTime) at once, cancelled, naming the fix", async () => {
    const ws = workspace();
    const c = await controllerOn(ws);
    const yaml = benchmarkYaml('toolong').replace('  retries:', '  runner: { slurm: { partition: short, time: "00:10:00" } }\n  retries:');
    writeFileSync(join(ws.resources, 'toolong.yaml'), yaml);
    const failed = await waitPhase(c, 'benchmarks', 'toolong', ['Failed', 'Succeeded'], 60_000);
    expect(failed.status.phase).toBe('Failed');
    expect(failed.status.message).toMatch(/PartitionTimeLimit: .*lower spec\.slurm\.time/);
    expect(failed.status.attempts).toBe(1);
    const job = allJobs().find((j) => j.name === 'aifb-benchmark-toolong' && j.comment.includes(failed.metadata.uid));
    expect(job?.state).toBe('CANCELLED');
  });

  it('fails a runner whose account the cluster refuses at once, without retrying, naming the field and the fix', async () => {
    const ws = workspace();
    const c = await controllerOn(ws);
    const yaml = benchmarkYaml('noaccount', { retries: 3 }).replace('  retries:', '  runner: { slurm: { account: aifb-no-such-account } }\n  retries:');
    writeFileSync(join(ws.resources, 'noaccount.yaml'), yaml);
    const failed = await waitPhase(c, 'benchmarks', 'noaccount', ['Failed', 'Succeeded'], 60_000);
    expect(failed.status.phase).toBe('Failed');
    expect(failed.status.attempts).toBe(1);
    expect(failed.status.message).toContain('Invalid account or account/partition combination specified');
    expect(failed.status.message).toMatch(/spec\.runner\.slurm\.account names an account .*sacctmgr show assoc user=\$USER/);
    expect(allJobs().filter((j) => j.comment.includes(failed.metadata.uid))).toEqual([]);
  });

  it('applies runner.slurm.maxPendingTime to runner jobs too', async () => {
    const ws = workspace();
    const c = await controllerOn(ws);
    const yaml = benchmarkYaml('late').replace('  retries:', '  runner: { slurm: { maxPendingTime: 5s, extraDirectives: ["--begin=now+1hour"] } }\n  retries:');
    writeFileSync(join(ws.resources, 'late.yaml'), yaml);
    const failed = await waitPhase(c, 'benchmarks', 'late', ['Failed', 'Succeeded'], 60_000);
    expect(failed.status.message).toMatch(/waited in the queue longer than runner\.slurm\.maxPendingTime \(last reason: BeginTime\)/);
    expect(failed.status.attempts).toBe(1);
    await until('the runner job to be cancelled', () => allJobs().find((j) => j.name === 'aifb-benchmark-late' && j.comment.includes(failed.metadata.uid))?.state === 'CANCELLED' || undefined, 30_000);
  });

  it('waits while a submit limit refuses the runner job, using up no attempt, and runs it once the limit lifts', async () => {
    const ws = workspace();
    const c = await controllerOn(ws);
    writeFileSync(SUBMIT_LIMIT_FILE, 'aifb-benchmark-limited\n');
    try {
      writeFileSync(join(ws.resources, 'limited.yaml'), benchmarkYaml('limited', { retries: 1 }));
      const waiting = await until('the submit limit in status', async () => {
        const v = await phaseOf(c, 'benchmarks', 'limited');
        return /SubmitLimit: sbatch refused the job \(.*job submit limit/.test(v.status?.message ?? '') ? v : undefined;
      }, 30_000);
      expect(waiting.status.phase).toBe('Pending');
      // Several refused submissions later (one a poll interval), it still waits on its first attempt.
      await new Promise((r) => setTimeout(r, 4000));
      const still = await phaseOf(c, 'benchmarks', 'limited');
      expect(still.status.phase).toBe('Pending');
      expect(still.status.attempts).toBe(1);
    } finally {
      rmSync(SUBMIT_LIMIT_FILE, { force: true });
    }
    const done = await waitPhase(c, 'benchmarks', 'limited', ['Succeeded', 'Failed']);
    expect(done.status.phase, JSON.stringify(done.status)).toBe('Succeeded');
    expect(done.status.attempts).toBe(1);
  });

  it('retries a runner job lost to NODE_FAIL and still succeeds', async () => {
    const ws = workspace();
    const c = await controllerOn(ws);
    writeFileSync(join(ws.resources, 'nf.yaml'), benchmarkYaml('nodefail', { duration: '20s' }));
    await until('the runner job to run', () => allJobs().some((j) => j.name === 'aifb-benchmark-nodefail' && j.state === 'RUNNING') || undefined, 60_000);
    await waitPhase(c, 'benchmarks', 'nodefail', ['Running']);
    setNode('down');
    stateOfNode = 'down';
    await until('NODE_FAIL', () => allJobs().some((j) => j.name === 'aifb-benchmark-nodefail' && j.state === 'NODE_FAIL') || undefined, 60_000);
    await waitPhase(c, 'benchmarks', 'nodefail', ['Retrying', 'Starting', 'Failed'], 30_000);
    setNode('resume');
    stateOfNode = 'up';
    const done = await waitPhase(c, 'benchmarks', 'nodefail', ['Succeeded', 'Failed'], 120_000);
    expect(done.status.phase, JSON.stringify(done.status)).toBe('Succeeded');
    expect(done.status.attempts).toBe(2);
    expect(done.events.some((e: any) => e.reason === 'Retrying' && /NODE_FAIL/.test(e.message)), JSON.stringify(done.events)).toBe(true);
  });

  it("runs the resource's slurm.setup first, and a program missing on the node fails at once, not three times", async () => {
    const ws = workspace();
    const c = await controllerOn(ws);
    const ok = benchmarkYaml('setup-ok').replace('  retries:', `  runner: { slurm: { setup: ['echo aifb-setup-ran >&2'] } }\n  retries:`);
    const missing = benchmarkYaml('setup-missing', { retries: 3 }).replace('  retries:', "  runner: { slurm: { setup: ['aifb-no-such-module-cmd load Apptainer'] } }\n  retries:");
    writeFileSync(join(ws.resources, 'setup.yaml'), `${ok}---\n${missing}`);
    const good = await waitPhase(c, 'benchmarks', 'setup-ok', ['Succeeded', 'Failed']);
    expect(good.status.phase, JSON.stringify(good.status)).toBe('Succeeded');
    expect(readFileSync(join(ws.state, 'runs', 'setup-ok', good.status.runId, 'runner.stderr.log'), 'utf8')).toContain('aifb-setup-ran');
    const bad = await waitPhase(c, 'benchmarks', 'setup-missing', ['Succeeded', 'Failed']);
    expect(bad.status.phase).toBe('Failed');
    expect(bad.status.attempts).toBe(1);
    expect(bad.status.message).toMatch(/exit 127\): a program the job runs is not on the compute node: load it in slurm\.setup/);
    expect(bad.status.message).toContain('aifb-no-such-module-cmd: command not found');
  });

  it('reports a job cancelled from outside with that reason, without retrying', async () => {
    const ws = workspace();
    const c = await controllerOn(ws);
    writeFileSync(join(ws.resources, 'cx.yaml'), benchmarkYaml('cancelled', { duration: '60s' }));
    const job = await until('the runner job to run', () => allJobs().find((j) => j.name === 'aifb-benchmark-cancelled' && j.state === 'RUNNING'), 60_000);
    execFileSync('scancel', [job.jobId]);
    const done = await waitPhase(c, 'benchmarks', 'cancelled', ['Failed', 'Succeeded'], 60_000);
    expect(done.status.phase).toBe('Failed');
    expect(done.status.message).toMatch(/CANCELLED/);
    expect(done.status.attempts).toBe(1);
    const file = parse(readFileSync(join(ws.resources, 'cx.yaml'), 'utf8'));
    await until('status in the file', () => (parse(readFileSync(join(ws.resources, 'cx.yaml'), 'utf8')).status?.phase === 'Failed' ? true : undefined), 10_000);
    expect(file.spec.load.duration).toBe('60s');
  });

  it('after kill -9 and a restart, adopts the running job: nothing is submitted twice', async () => {
    const ws = workspace();
    const first = await controllerOn(ws);
    writeFileSync(join(ws.resources, 'k.yaml'), benchmarkYaml('killed', { duration: '8s' }));
    await until('the runner job to run', () => allJobs().find((j) => j.name === 'aifb-benchmark-killed' && j.state === 'RUNNING'), 60_000);
    await stopProcess(first.child, 'SIGKILL');
    const second = await controllerOn(ws);
    const done = await waitPhase(second, 'benchmarks', 'killed', ['Succeeded', 'Failed']);
    expect(done.status.phase, JSON.stringify(done.status)).toBe('Succeeded');
    const jobs = allJobs().filter((j) => j.name === 'aifb-benchmark-killed' && j.comment.includes(done.metadata.uid));
    expect(jobs).toHaveLength(1);
    expect(new Set(jobs.map((j) => j.comment)).size).toBe(1);
    expect(readdirSync(join(ws.state, 'runs', 'killed'))).toEqual(['killed-g1-a1']);
  });

  it('keeps running while slurmctld is down and catches up when it returns', async () => {
    const ws = workspace();
    const c = await controllerOn(ws);
    writeFileSync(join(ws.resources, 'o.yaml'), benchmarkYaml('outage', { duration: '6s' }));
    await until('the runner job to run', () => allJobs().find((j) => j.name === 'aifb-benchmark-outage' && j.state === 'RUNNING'), 60_000);
    execFileSync('bash', ['scripts/slurm-down.sh', '--ctld-only']);
    try {
      await new Promise((r) => setTimeout(r, 10_000));
      expect((await api(c.url, '/healthz')).status).toBe(200);
      expect(c.child.exitCode).toBeNull();
    } finally {
      execFileSync('bash', ['scripts/slurm-up.sh', '--ctld-only'], { stdio: 'ignore' });
    }
    const done = await waitPhase(c, 'benchmarks', 'outage', ['Succeeded', 'Failed'], 120_000);
    expect(done.status.phase, JSON.stringify(done.status)).toBe('Succeeded');
    expect(done.status.attempts).toBe(1);
  });
});
