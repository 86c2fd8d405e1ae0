import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { parseDuration, parseSize } from '../../../api/units.js';
import { validateResource } from '../../../controller/api/validate.js';
import { WORKLOADS } from '../../../clients/registry.js';
import { jsonSchema, jsonSchemaText } from '../../../controller/api/write-json-schema.js';

const bench = (spec: Record<string, unknown>, metadata: Record<string, unknown> = { name: 'b1' }) => ({
  apiVersion: 'aifb.io/v1alpha1',
  kind: 'Benchmark',
  metadata,
  spec: { workload: { type: 'file-storage' }, load: { duration: '10s' }, ...spec },
});

describe('units', () => {
  it('parses durations to milliseconds', () => {
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('5m')).toBe(300_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration(2)).toBe(2000);
    expect(parseDuration('1.5')).toBe(1500);
    expect(() => parseDuration('10 parsecs')).toThrow(/not a duration; write e.g. 500ms/);
    expect(() => parseDuration('5m trailing')).toThrow();
  });

  it('parses sizes with K = 1024, as fio does', () => {
    expect(parseSize('1KB')).toBe(1024);
    expect(parseSize('10MB')).toBe(10 * 1024 * 1024);
    expect(parseSize('1GiB')).toBe(1024 ** 3);
    expect(parseSize('512')).toBe(512);
    expect(parseSize(100)).toBe(100);
    expect(() => parseSize('10 bananas')).toThrow(/not a size/);
  });
});

describe('Benchmark schema', () => {
  it('fills defaults and parses units', () => {
    const r = validateResource(bench({ load: { duration: '2m', warmup: '5s' } }));
    expect(r.ok).toBe(true);
    if (!r.ok || r.resource.kind !== 'Benchmark') return;
    const { spec } = r.resource;
    expect(spec.load).toMatchObject({ mode: 'closed', workers: 4, duration: 120_000, warmup: 5000, seed: 1 });
    expect(spec.retries).toEqual({ max: 3, backoff: 10_000, maxBackoff: 300_000 });
    expect(spec.reports.formats).toEqual(['json', 'csv']);
    expect(spec.workload).toMatchObject({ basePath: '/tmp/aifb-file-storage', fsync: false });
  });

  it('rejects unknown fields with their path', () => {
    const r = validateResource(bench({ load: { duration: '1s', wrokers: 3 } }));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problems).toContainEqual({ path: 'spec.load', message: 'unknown field "wrokers"; remove it or check the spelling' });
  });

  it('names the field of a bad unit', () => {
    const r = validateResource(bench({ load: { duration: 'ten seconds' } }));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problems[0].path).toBe('spec.load.duration');
    expect(r.problems[0].message).toMatch(/not a duration/);
  });

  it('needs a rate for open loop and an end for every run', () => {
    const open = validateResource(bench({ load: { mode: 'open', duration: '1s' } }));
    expect(open.ok).toBe(false);
    if (!open.ok) expect(open.problems).toContainEqual({ path: 'spec.load.rate', message: 'open loop needs a rate (requests per second), or a sweep of rates' });
    const endless = validateResource(bench({ load: {} }));
    expect(endless.ok).toBe(false);
    if (!endless.ok) expect(endless.problems[0].path).toBe('spec.load.duration');
  });

  it('validates names as DNS labels', () => {
    for (const name of ['Upper', 'under_score', '-lead', 'x'.repeat(64)]) {
      const r = validateResource(bench({}, { name }));
      expect(r.ok, name).toBe(false);
      if (!r.ok) expect(r.problems[0].path).toBe('metadata.name');
    }
    expect(validateResource(bench({}, { name: 'ok-name-1' })).ok).toBe(true);
  });

  it('names a wrong apiVersion or kind', () => {
    const v = validateResource({ ...bench({}), apiVersion: 'v1' });
    expect(v).toMatchObject({ ok: false, problems: [{ path: 'apiVersion' }] });
    const k = validateResource({ ...bench({}), kind: 'Pod' });
    expect(k).toMatchObject({ ok: false, problems: [{ path: 'kind', message: expect.stringMatching(/Service, Benchmark, MonitoringStack/) }] });
    expect(validateResource('just a string')).toMatchObject({ ok: false });
  });

  it('refuses serviceRef and an inline service together', () => {
    const r = validateResource(bench({ serviceRef: 'db', service: { type: 'file-storage' } }));
    expect(r).toMatchObject({ ok: false, problems: [{ path: 'spec.serviceRef', message: 'set serviceRef or service, not both' }] });
  });

  it('refuses an inline service the workload cannot talk to, naming the types that fit', () => {
    const r = validateResource(bench({ workload: { type: 'llm' }, service: { type: 'postgresql' } }));
    expect(r).toMatchObject({
      ok: false,
      problems: [{ path: 'spec.service.type', message: 'a llm workload cannot talk to a Service of type postgresql; types that fit: vllm, ollama, triton, http' }],
    });
    expect(validateResource(bench({ workload: { type: 'llm' }, service: { type: 'vllm' } })).ok).toBe(true);
  });

  it('asks for a service when the workload needs one', () => {
    const r = validateResource(bench({ workload: { type: 'llm' } }));
    expect(r).toMatchObject({ ok: false, problems: [{ path: 'spec.serviceRef', message: expect.stringMatching(/needs a service: set spec.serviceRef to a Service of type vllm/) }] });
  });

  it('refuses per-request SLO limits on metrics the workload does not measure, and early stopping across runners', () => {
    const http = { workload: { type: 'http' }, service: { type: 'http' }, load: { duration: '1s' } };
    expect(validateResource(bench({ ...http, slo: { ttft: '1s' } }))).toMatchObject({
      ok: false,
      problems: [{ path: 'spec.slo.ttft', message: 'a http workload does not measure ttft (it measures ttfb); limit e2e, or drop it' }],
    });
    expect(validateResource(bench({ ...http, slo: { preset: 'llama2-70b' } }))).toMatchObject({ ok: false, problems: [{ path: 'spec.slo.preset' }, { path: 'spec.slo.preset' }] });
    expect(validateResource(bench({ ...http, slo: { e2e: '1s', earlyStop: {} } })).ok).toBe(true);
    expect(validateResource(bench({ ...http, slo: { e2e: '1s', earlyStop: {} }, runner: { nodes: 2 } }))).toMatchObject({
      ok: false,
      problems: [{ path: 'spec.slo.earlyStop', message: expect.stringMatching(/judges the requests of one runner/) }],
    });
    const llm = { workload: { type: 'llm' }, service: { type: 'vllm' }, load: { duration: '1s' } };
    expect(validateResource(bench({ ...llm, slo: { preset: 'llama3.1-8b-interactive', itl: '50ms', minGoodput: 1 } })).ok).toBe(true);
  });

  it('checks file-storage operations', () => {
    const r = validateResource(bench({ workload: { type: 'file-storage', operationMix: { write: 1, rename: 1 } } }));
    expect(r).toMatchObject({ ok: false, problems: [{ path: 'spec.workload.operationMix' }] });
  });
});

describe('Service and MonitoringStack schemas', () => {
  it('default a service', () => {
    const r = validateResource({ apiVersion: 'aifb.io/v1alpha1', kind: 'Service', metadata: { name: 's' }, spec: { type: 'vllm', gpus: 1 } });
    expect(r.ok).toBe(true);
    if (r.ok && r.resource.kind === 'Service') expect(r.resource.spec).toMatchObject({ gpus: 1, args: [], readiness: { interval: 2000, timeout: 600_000 } });
  });

  it('default a monitoring stack', () => {
    const r = validateResource({ apiVersion: 'aifb.io/v1alpha1', kind: 'MonitoringStack', metadata: { name: 'm' }, spec: {} });
    expect(r.ok).toBe(true);
    if (r.ok && r.resource.kind === 'MonitoringStack') expect(r.resource.spec.prometheus.port).toBeUndefined();
  });
});

describe('examples and JSON Schema', () => {
  it('every example validates and points at the JSON Schema the build writes', () => {
    const files = readdirSync('examples').filter((f) => f.endsWith('.yaml'));
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) {
      const text = readFileSync(`examples/${f}`, 'utf8');
      expect(text.split('\n')[0], f).toBe('# yaml-language-server: $schema=../schema/aifb.schema.json');
      for (const doc of parseAllDocuments(text)) {
        const r = validateResource(doc.toJS());
        expect(r.ok ? 'valid' : JSON.stringify(r.problems), f).toBe('valid');
      }
    }
  });

  it('the build writes the JSON Schema, with one Benchmark workload per registered type', () => {
    expect(readFileSync('schema/aifb.schema.json', 'utf8')).toBe(jsonSchemaText());
    expect(parse(readFileSync('schema/aifb.schema.json', 'utf8')).anyOf).toHaveLength(3);
    const text = JSON.stringify(jsonSchema());
    for (const w of WORKLOADS) expect(text, w.type).toContain(`"const":"${w.type}"`);
  });
});
