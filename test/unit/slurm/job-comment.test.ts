import { describe, expect, it } from 'vitest';
import type { LaunchRef } from '../../../controller/executor/types.js';
import { decodeJobComment, encodeJobComment, jobName } from '../../../slurm/job-comment.js';

const ref: LaunchRef = { kind: 'Benchmark', name: 'vllm-load', uid: '0b7c6a1e-1f1e-4c55-9d2a-3f7d5e0c9a11', generation: 3, attempt: 2, role: 'runner' };

describe('job comment', () => {
  it('encodes every field in the documented order', () => {
    expect(encodeJobComment(ref)).toBe('aifb:v1;kind=Benchmark;name=vllm-load;uid=0b7c6a1e-1f1e-4c55-9d2a-3f7d5e0c9a11;gen=3;attempt=2;role=runner');
  });

  it('round-trips for every kind and role', () => {
    for (const [kind, role] of [
      ['Service', 'service'],
      ['Benchmark', 'runner'],
      ['MonitoringStack', 'stack'],
    ] as const) {
      const r = { ...ref, kind, role, generation: 0, attempt: 17 };
      expect(decodeJobComment(encodeJobComment(r))).toEqual(r);
    }
  });

  it('survives surrounding whitespace as SLURM may print it', () => {
    expect(decodeJobComment(` ${encodeJobComment(ref)} `)).toEqual(ref);
  });

  it.each([
    '',
    'my own job',
    'aifb:v2;kind=Benchmark;name=x;uid=u;gen=1;attempt=1;role=runner',
    'aifb:v1;kind=Pod;name=x;uid=u;gen=1;attempt=1;role=runner',
    'aifb:v1;kind=Benchmark;name=x;uid=u;gen=one;attempt=1;role=runner',
    'aifb:v1;kind=Benchmark;name=x;uid=u;gen=1;attempt=1;role=admin',
    'aifb:v1;kind=Benchmark;uid=u;gen=1;attempt=1;role=runner',
    'aifb:v1;kind=Benchmark;name=x y;uid=u;gen=1;attempt=1;role=runner',
    'aifb:v1;garbage',
  ])('returns undefined for a foreign or damaged comment %j', (c) => {
    expect(decodeJobComment(c)).toBeUndefined();
  });

  it('refuses values that would break the comment', () => {
    expect(() => encodeJobComment({ ...ref, uid: 'a;b' })).toThrow(/uid/);
    expect(() => encodeJobComment({ ...ref, attempt: -1 })).toThrow(/attempt/);
  });

  it('names jobs aifb-<kind>-<name>', () => {
    expect(jobName('Benchmark', 'vllm-load')).toBe('aifb-benchmark-vllm-load');
    expect(jobName('MonitoringStack', 'mon')).toBe('aifb-monitoringstack-mon');
  });
});
