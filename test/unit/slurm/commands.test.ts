import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fromSacctLine, parseScontrolLine, Slurm, SlurmCommandError, SlurmUnavailable, SubmitLimited } from '../../../slurm/commands.js';

// Stand-in SLURM binaries (real processes on PATH) that print what SLURM 22.05
// printed on the test cluster, so parsing and error mapping run without SLURM.
const bin = mkdtempSync(join(tmpdir(), 'aifb-fake-slurm-'));
const calls = join(bin, 'calls.log');
afterAll(() => rmSync(bin, { recursive: true, force: true }));

function fake(name: string, body: string): void {
  const file = join(bin, name);
  writeFileSync(file, `#!/bin/bash\necho "${name} $*" >> ${calls}\n${body}\n`);
  chmodSync(file, 0o755);
}

function slurmWith(bins: Record<string, string>, opts: { timeoutMs?: number } = {}): { slurm: Slurm; argvs: string[][] } {
  for (const [name, body] of Object.entries(bins)) fake(name, body);
  const argvs: string[][] = [];
  const slurm = new Slurm({ env: { PATH: `${bin}:${process.env.PATH}` }, onCommand: (a) => argvs.push(a), ...opts });
  return { slurm, argvs };
}

// What `squeue --me --states=all --noheader --Format=...` printed on the test
// cluster (22.05.8): columns ended by the unit separator, times in local time.
const U = '\x1f';
const row = (...cols: string[]) => cols.map((c) => c + U).join('');
const squeueLines = [
  row('7', 'aifb-benchmark-x', 'FAILED', 'NonZeroExitCode', 'vm', '768', '2026-11-29T19:19:31', '2026-11-29T19:19:34', '2026-11-29T19:19:37', 'aifb:v1;kind=Benchmark;name=x;uid=u;gen=1;attempt=1;role=runner'),
  row('8', 'aifb-service-y', 'CANCELLED', 'None', 'vm', '15', '2026-11-29T19:19:31', 'N/A', 'N/A', '(null)'),
  row('9', 'aifb-service-z', 'PENDING', 'Resources', '', '0', '2026-11-29T19:19:31', 'N/A', 'N/A', ''),
  row('10', 'interactive', 'RUNNING', 'None', 'vm', '0', '2026-11-29T19:19:31', '2026-11-29T19:19:31', 'N/A', ''),
].join('\n');

describe('Slurm.queue', () => {
  it('makes one squeue call for this user’s jobs only, and returns the aifb jobs, parsed', async () => {
    writeFileSync(join(bin, 'squeue.out'), squeueLines + '\n');
    const { slurm, argvs } = slurmWith({ squeue: `cat ${join(bin, 'squeue.out')}` });
    const jobs = await slurm.queue();
    expect(argvs).toHaveLength(1);
    // --me with a fixed format: slurmctld filters by user (22.05 ignores --me with --json).
    expect(argvs[0].slice(0, 4)).toEqual(['squeue', '--me', '--states=all', '--noheader']);
    expect(argvs[0]).not.toContain('--json');
    expect(jobs.map((j) => j.jobId)).toEqual(['7', '8', '9']);
    expect(jobs[0]).toEqual({
      jobId: '7',
      name: 'aifb-benchmark-x',
      comment: 'aifb:v1;kind=Benchmark;name=x;uid=u;gen=1;attempt=1;role=runner',
      state: 'FAILED',
      reason: 'NonZeroExitCode',
      nodes: 'vm',
      exitCode: 3,
      signal: 0,
      submitTime: new Date('2026-11-29T19:19:31').toISOString(),
      startTime: new Date('2026-11-29T19:19:34').toISOString(),
      endTime: new Date('2026-11-29T19:19:37').toISOString(),
    });
    expect(jobs[1]).toMatchObject({ state: 'CANCELLED', comment: '', exitCode: 0, signal: 15, startTime: undefined });
    expect(jobs[2]).toMatchObject({ state: 'PENDING', reason: 'Resources', nodes: undefined });
    expect((await slurm.queue({ all: true })).map((j) => j.jobId)).toEqual(['7', '8', '9', '10']);
  });

  it('keeps a comment holding the separator whole, and refuses a line without the columns asked for', async () => {
    writeFileSync(join(bin, 'squeue.out'), row('5', 'aifb-b', 'RUNNING', 'None', 'n1', '0', 'N/A', 'N/A', 'N/A', `odd${U}comment`) + '\n');
    const { slurm } = slurmWith({ squeue: `cat ${join(bin, 'squeue.out')}` });
    expect((await slurm.queue())[0]).toMatchObject({ jobId: '5', comment: `odd${U}comment`, nodes: 'n1' });
    writeFileSync(join(bin, 'squeue.out'), 'JOBID PARTITION NAME\n');
    const err = await slurm.queue().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SlurmCommandError);
    expect((err as Error).message).toMatch(/unexpected line/);
  });

  it('turns an unreachable slurmctld into SlurmUnavailable', async () => {
    const { slurm } = slurmWith({ squeue: 'echo "slurm_load_jobs error: Unable to contact slurm controller (connect failure)" >&2; exit 1' });
    const err = await slurm.queue().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SlurmUnavailable);
    expect((err as Error).message).toMatch(/slurmctld/);
    expect((err as Error).message).toMatch(/scontrol ping/);
  });
});

describe('Slurm.submit', () => {
  it('tells a submit limit (may pass later) from other refusals', async () => {
    const { slurm } = slurmWith({ sbatch: 'echo "sbatch: error: Batch job submission failed: Job violates accounting/QOS policy (job submit limit, user\'s size and/or time limits)" >&2; exit 1' });
    const err = await slurm.submit('/tmp/x.sbatch').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SubmitLimited);
    expect((err as SubmitLimited).stderr).toMatch(/job submit limit/);
    const { slurm: other } = slurmWith({ sbatch: 'echo "sbatch: error: Batch job submission failed: Invalid account or account/partition combination specified" >&2; exit 1' });
    const refused = await other.submit('/tmp/x.sbatch').catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(SlurmCommandError);
    expect(refused).not.toBeInstanceOf(SubmitLimited);
  });
});

describe('Slurm.show', () => {
  const line =
    'JobId=3 JobName=aifb-benchmark-x UserId=root(0) GroupId=root(0) Priority=4294901757 Account=(null) JobState=FAILED Reason=NonZeroExitCode Requeue=0 ExitCode=3:0 SubmitTime=2026-11-27T23:13:09 StartTime=2026-11-27T23:13:11 EndTime=2026-11-27T23:13:14 Partition=debug AllocNode:Sid=localhost:21608 NodeList=vm BatchHost=vm NumNodes=1 CPUs/Task=1 Command=/tmp/j 1.sh WorkDir=/tmp Comment=aifb:v1;kind=Benchmark;name=x  StdErr=/tmp/j1.out StdIn=/dev/null StdOut=/tmp/j1.out Power= TresPerNode=gres:gpu:1 ';

  it('parses scontrol’s one-line form, values with spaces included', () => {
    const f = parseScontrolLine(line);
    expect(f.get('Command')).toBe('/tmp/j 1.sh');
    expect(f.get('AllocNode:Sid')).toBe('localhost:21608');
    expect(f.get('Comment')).toBe('aifb:v1;kind=Benchmark;name=x');
    expect(f.get('Power')).toBe('');
    expect(f.get('TresPerNode')).toBe('gres:gpu:1');
  });

  it('returns the job with exit code and signal split', async () => {
    writeFileSync(join(bin, 'scontrol.out'), line);
    const { slurm, argvs } = slurmWith({ scontrol: `cat ${join(bin, 'scontrol.out')}` });
    const job = await slurm.show('3');
    expect(argvs).toEqual([['scontrol', 'show', 'job', '-o', '3']]);
    expect(job).toEqual({
      jobId: '3',
      name: 'aifb-benchmark-x',
      comment: 'aifb:v1;kind=Benchmark;name=x',
      state: 'FAILED',
      reason: 'NonZeroExitCode',
      nodes: 'vm',
      exitCode: 3,
      signal: 0,
      submitTime: new Date('2026-11-27T23:13:09').toISOString(),
      startTime: new Date('2026-11-27T23:13:11').toISOString(),
      endTime: new Date('2026-11-27T23:13:14').toISOString(),
    });
  });

  it('returns undefined for a purged job id', async () => {
    const { slurm } = slurmWith({ scontrol: 'echo "slurm_load_jobs error: Invalid job id specified" >&2; exit 1' });
    expect(await slurm.show('99999')).toBeUndefined();
  });

  it('maps "Unable to contact slurm controller" to SlurmUnavailable and other failures to SlurmCommandError with stderr', async () => {
    const { slurm } = slurmWith({ scontrol: 'echo "slurm_load_jobs error: Unable to contact slurm controller (connect failure)" >&2; exit 1' });
    await expect(slurm.show('3')).rejects.toBeInstanceOf(SlurmUnavailable);
    const other = slurmWith({ scontrol: 'echo "scontrol: error: Access denied" >&2; exit 1' }).slurm;
    const err = await other.show('3').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SlurmCommandError);
    expect((err as SlurmCommandError).stderr).toContain('Access denied');
  });

  it('refuses a job id that would read as an option', async () => {
    const { slurm, argvs } = slurmWith({});
    await expect(slurm.show('-a')).rejects.toThrow(/invalid SLURM job id/);
    expect(argvs).toEqual([]);
  });
});

// What `sacct -X --noheader --parsable2 --delimiter=<US> --format=...` printed
// on the test cluster (22.05.8 with slurmdbd): no separator after the last column.
const sacctRow = (...cols: string[]) => cols.join(U);
const sacctLines = [
  sacctRow('41', 'aifb-benchmark-x', 'FAILED', '3:0', 'vm', '2026-12-05T09:01:10', '2026-12-05T09:01:11', '2026-12-05T09:01:12', 'aifb:v1;kind=Benchmark;name=x;uid=u;gen=1;attempt=1;role=runner'),
  sacctRow('42', 'aifb-service-y', 'CANCELLED by 0', '0:15', 'vm', '2026-12-05T09:01:10', '2026-12-05T09:01:11', '2026-12-05T09:01:40', ''),
  sacctRow('43', 'aifb-service-z', 'CANCELLED by 0', '0:0', 'None assigned', '2026-12-05T09:01:10', 'None', '2026-12-05T09:01:20', ''),
].join('\n');

describe('Slurm.accounting', () => {
  it('asks sacct once for all the jobs, and parses state, exit code and signal, times, node and comment', async () => {
    writeFileSync(join(bin, 'sacct.out'), sacctLines + '\n');
    const { slurm, argvs } = slurmWith({ sacct: `cat ${join(bin, 'sacct.out')}` });
    const jobs = (await slurm.accounting(['41', '42', '43']))!;
    expect(argvs).toHaveLength(1);
    expect(argvs[0]).toEqual(expect.arrayContaining(['sacct', '-X', '--parsable2', '-j', '41,42,43']));
    expect(jobs[0]).toEqual({
      jobId: '41',
      name: 'aifb-benchmark-x',
      comment: 'aifb:v1;kind=Benchmark;name=x;uid=u;gen=1;attempt=1;role=runner',
      state: 'FAILED',
      nodes: 'vm',
      exitCode: 3,
      signal: 0,
      submitTime: new Date('2026-12-05T09:01:10').toISOString(),
      startTime: new Date('2026-12-05T09:01:11').toISOString(),
      endTime: new Date('2026-12-05T09:01:12').toISOString(),
    });
    expect(jobs[1]).toMatchObject({ state: 'CANCELLED', exitCode: 0, signal: 15, comment: '' });
    expect(jobs[2]).toMatchObject({ jobId: '43', nodes: undefined, startTime: undefined });
  });

  it('keeps a comment holding the separator whole, and refuses a line without the columns asked for', () => {
    expect(fromSacctLine(sacctRow('5', 'n', 'COMPLETED', '0:0', 'vm', '', '', '', `a${U}b`))?.comment).toBe(`a${U}b`);
    expect(fromSacctLine('5|n|COMPLETED')).toBeUndefined();
  });

  it('asks nothing for no jobs', async () => {
    const { slurm, argvs } = slurmWith({ sacct: 'exit 1' });
    expect(await slurm.accounting([])).toEqual([]);
    expect(argvs).toEqual([]);
  });

  it('where the cluster keeps no accounting, answers undefined and does not ask again', async () => {
    const { slurm, argvs } = slurmWith({ sacct: 'echo "Slurm accounting storage is disabled" >&2; exit 1' });
    expect(await slurm.accounting(['41'])).toBeUndefined();
    expect(await slurm.accounting(['42'])).toBeUndefined();
    expect(argvs).toHaveLength(1);
  });

  it('any other failure is an error, and does not stop the next call', async () => {
    const { slurm, argvs } = slurmWith({ sacct: 'echo "sacct: error: Problem talking to the database: Connection refused" >&2; exit 1' });
    await expect(slurm.accounting(['41'])).rejects.toBeInstanceOf(SlurmUnavailable);
    await expect(slurm.accounting(['41'])).rejects.toBeInstanceOf(SlurmUnavailable);
    expect(argvs).toHaveLength(2);
    await expect(slurm.accounting(['-1'])).rejects.toThrow(/invalid SLURM job id/);
  });
});

describe('Slurm.submit and cancel', () => {
  it('submit returns the id from --parsable output, with or without a cluster', async () => {
    const { slurm, argvs } = slurmWith({ sbatch: 'echo "42;cluster1"' });
    expect(await slurm.submit('/tmp/job.sh')).toBe('42');
    expect(argvs).toEqual([['sbatch', '--parsable', '/tmp/job.sh']]);
  });

  it('submit reports sbatch’s error', async () => {
    const { slurm } = slurmWith({ sbatch: 'echo "sbatch: error: Batch job submission failed: Invalid partition name specified" >&2; exit 1' });
    await expect(slurm.submit('/tmp/job.sh')).rejects.toThrow(/Invalid partition name specified/);
  });

  it('cancel ignores a job that is already gone and passes a signal to the whole job', async () => {
    const { slurm, argvs } = slurmWith({ scancel: 'echo "scancel: error: Kill job error on job id 5: Job/step already completing or completed" >&2; exit 1' });
    await slurm.cancel('5');
    await slurm.cancel('5', { signal: 'USR1' });
    expect(argvs).toEqual([
      ['scancel', '5'],
      ['scancel', '--full', '--signal=USR1', '5'],
    ]);
  });

  it('a command that does not answer in time is SlurmUnavailable; an abort rejects with its reason', async () => {
    const { slurm } = slurmWith({ scontrol: 'exec sleep 20' }, { timeoutMs: 300 });
    await expect(slurm.show('3')).rejects.toBeInstanceOf(SlurmUnavailable);
    const ac = new AbortController();
    const p = slurm.show('3', { signal: ac.signal, timeoutMs: 20_000 });
    ac.abort(new Error('stopped by test'));
    await expect(p).rejects.toThrow('stopped by test');
  });

  it('a missing binary names the fix', async () => {
    const s = new Slurm({ env: { PATH: bin } });
    rmSync(join(bin, 'scancel'), { force: true });
    await expect(s.cancel('3')).rejects.toThrow(/scancel was not found on PATH/);
    expect(readFileSync(calls, 'utf8')).toContain('scontrol show job -o 3');
  });
});

describe('commands at once', () => {
  it('runs at most maxConcurrent SLURM commands at a time, the rest in the order asked', async () => {
    const log = join(bin, 'overlap.log');
    fake('sbatch', `echo "start $(basename $2)" >> ${log}; sleep 0.2; echo "end $(basename $2)" >> ${log}; echo 7`);
    const started: string[][] = [];
    const slurm = new Slurm({ env: { PATH: `${bin}:${process.env.PATH}` }, maxConcurrent: 2, onCommand: (a) => started.push(a) });
    const ids = await Promise.all(['a', 'b', 'c', 'd', 'e'].map((n) => slurm.submit(`/tmp/${n}`)));
    expect(ids).toEqual(['7', '7', '7', '7', '7']);
    let inFlight = 0;
    let most = 0;
    for (const line of readFileSync(log, 'utf8').trim().split('\n')) {
      inFlight += line.startsWith('start') ? 1 : -1;
      most = Math.max(most, inFlight);
    }
    expect(most).toBe(2);
    expect(started.map((a) => a[a.length - 1])).toEqual(['/tmp/a', '/tmp/b', '/tmp/c', '/tmp/d', '/tmp/e']);
  });
});
