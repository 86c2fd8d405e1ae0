import { describe, expect, it } from 'vitest';
import type { SlurmJob } from '../../../slurm/commands.js';
import { ADMIN_HOLD_BOUND_MS, classify, pendingVerdict, submitRefusal } from '../../../slurm/states.js';

const job = (state: string, extra: Partial<SlurmJob> = {}): SlurmJob => ({ jobId: '7', name: 'aifb-benchmark-x', comment: '', state, ...extra });

describe('classify', () => {
  it.each(['PENDING', 'REQUEUED', 'CONFIGURING'])('%s is pending with SLURM’s reason', (state) => {
    expect(classify(job(state, { reason: 'Resources' }))).toEqual({ phase: 'pending', reason: 'Resources' });
    expect(classify(job(state, { reason: 'ReqNodeNotAvail,_UnavailableNodes:n1' })).reason).toBe('ReqNodeNotAvail,_UnavailableNodes:n1');
  });

  it('drops the meaningless reason "None"', () => {
    expect(classify(job('PENDING', { reason: 'None' }))).toEqual({ phase: 'pending' });
  });

  it.each(['RUNNING', 'COMPLETING'])('%s is running on its nodes', (state) => {
    const c = classify(job(state, { nodes: 'mel[2001-2002]' }));
    expect(c.phase).toBe('running');
    expect(c.nodes).toBe('mel[2001-2002]');
  });

  it('COMPLETED exits 0 and is not retried', () => {
    expect(classify(job('COMPLETED', { exitCode: 0, signal: 0, nodes: 'n1' }))).toEqual({ phase: 'exited', exitCode: 0, retryable: false, nodes: 'n1' });
  });

  it('FAILED carries the exit code and is retryable', () => {
    const c = classify(job('FAILED', { exitCode: 3, signal: 0, reason: 'NonZeroExitCode' }));
    expect(c).toMatchObject({ phase: 'exited', exitCode: 3, retryable: true });
    expect(c.reason).toBe('FAILED: exit code 3');
  });

  it('FAILED by a signal has no exit code and says which signal', () => {
    const c = classify(job('FAILED', { exitCode: 0, signal: 9 }));
    expect(c).toMatchObject({ phase: 'exited', exitCode: null, retryable: true });
    expect(c.reason).toContain('signal 9');
  });

  it.each(['NODE_FAIL', 'PREEMPTED', 'BOOT_FAIL'])('%s is the cluster’s fault: retryable, reason names it', (state) => {
    const c = classify(job(state, { nodes: 'n1', exitCode: 0, signal: 15 }));
    expect(c).toMatchObject({ phase: 'exited', retryable: true, exitCode: null });
    expect(c.reason).toMatch(new RegExp(`^${state}: `));
  });

  it('NODE_FAIL names the node', () => {
    expect(classify(job('NODE_FAIL', { nodes: 'mel2001' })).reason).toContain('mel2001');
  });

  it.each([
    ['TIMEOUT', /time limit.*spec\.slurm\.time/],
    ['OUT_OF_MEMORY', /spec\.slurm\.mem/],
    ['CANCELLED', /^CANCELLED: cancelled from outside aifb \(scancel\)$/],
    ['DEADLINE', /^DEADLINE: /],
  ])('%s is final: not retried, with a reason', (state, reason) => {
    const c = classify(job(state));
    expect(c).toMatchObject({ phase: 'exited', retryable: false });
    expect(c.reason).toMatch(reason);
  });

  it('keeps watching a state it does not know instead of calling it finished', () => {
    expect(classify(job('SOMETHING_NEW'))).toMatchObject({ phase: 'running', reason: 'SLURM state SOMETHING_NEW' });
  });
});

describe('pendingVerdict', () => {
  it.each(['Priority', 'Resources', 'AssocGrpGRES', 'QOSMaxJobsPerUserLimit', 'BeginTime', 'Dependency', undefined, 'SomeReasonOfSlurm24'])('%s: wait, no attempt used', (reason) => {
    expect(pendingVerdict(reason)).toEqual({ action: 'wait' });
  });

  it.each([
    ['PartitionTimeLimit', /spec\.slurm\.time/],
    ['QOSMaxWallDurationPerJobLimit', /spec\.slurm\.qos/],
    ['BadConstraints', /spec\.slurm\.constraint/],
    ['InvalidAccount', /spec\.slurm\.account/],
  ])('%s: fail at once, naming the field to change', (reason, fix) => {
    const v = pendingVerdict(reason);
    expect(v.action).toBe('fail');
    expect(v.message).toMatch(new RegExp(`^${reason}: `));
    expect(v.message).toMatch(fix);
  });

  it('surfaces ReqNodeNotAvail (a reservation, a drain) with its node list, and keeps waiting', () => {
    expect(pendingVerdict('ReqNodeNotAvail,_UnavailableNodes:mel[2001-2004]')).toMatchObject({ action: 'surface', message: expect.stringMatching(/^ReqNodeNotAvail: .*reserved/) });
  });

  it('waits out an administrator’s hold for a bound, then fails saying so', () => {
    expect(pendingVerdict('JobHeldAdmin', ADMIN_HOLD_BOUND_MS - 1).action).toBe('surface');
    const v = pendingVerdict('JobHeldAdmin', ADMIN_HOLD_BOUND_MS);
    expect(v.action).toBe('fail');
    expect(v.message).toMatch(/scontrol release/);
  });
});

describe('submitRefusal', () => {
  // sbatch's words on the test cluster (22.05, AccountingStorageEnforce=associations,limits,qos).
  const refused = (what: string) => `sbatch: error: Batch job submission failed: ${what}\n`;

  it.each([
    ['Invalid account or account/partition combination specified', 'spec.runner.slurm', /^spec\.runner\.slurm\.account names an account .*; set spec\.runner\.slurm\.account to one of yours \(sacctmgr show assoc user=\$USER/],
    ['Invalid account or account/partition combination specified', 'spec.slurm', /^spec\.slurm\.account names .*spec\.slurm\.partition/],
    ['Invalid qos specification', 'spec.slurm', /^spec\.slurm\.qos names a QOS .*sacctmgr show assoc user=\$USER format=account,qos/],
    ['Invalid partition name specified', 'spec.slurm', /^spec\.slurm\.partition names a partition .*sinfo/],
  ])('%s under %s: refused for good, naming the field and the fix', (what, field, message) => {
    expect(submitRefusal(refused(what), field)).toMatch(message);
  });

  it('leaves any other failure (a submit limit, an unreachable slurmctld) to be tried again', () => {
    expect(submitRefusal(refused("Job violates accounting/QOS policy (job submit limit, user's size and/or time limits)"), 'spec.slurm')).toBeUndefined();
    expect(submitRefusal('sbatch: error: Batch job submission failed: Unable to contact slurm controller (connect failure)', 'spec.slurm')).toBeUndefined();
  });
});
