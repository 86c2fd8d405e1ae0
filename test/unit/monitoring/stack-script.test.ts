import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MonitoringStackSpec } from '../../../api/schemas.js';
import { stackScript } from '../../../monitoring/stack-script.js';

const spec = (over: Record<string, unknown> = {}) => MonitoringStackSpec.parse(over);
const dir = () => mkdtempSync(join(tmpdir(), 'aifb-stack-'));

describe('stackScript', () => {
  it('runs each enabled component as a catalog container, Prometheus with its config bound in', () => {
    const d = dir();
    const { lines, components } = stackScript(spec({ grafana: { enabled: false } }), d, 'containers');
    expect(components).toEqual(['prometheus', 'pushgateway']);
    expect(lines[0]).toMatch(/^apptainer run .*--bind .*prometheus\.yml:\/etc\/prometheus\/prometheus\.yml:ro.* docker:\/\/prom\/prometheus:latest .*--web\.listen-address=:9090 &$/);
    expect(lines[1]).toMatch(/docker:\/\/prom\/pushgateway:latest .*&$/);
    expect(lines.slice(-4)).toEqual(['wait -n', 'status=$?', 'kill 0 2>/dev/null', 'exit $status']);
    expect(readFileSync(join(d, 'prometheus.yml'), 'utf8')).toContain("targets: ['127.0.0.1:9091']");
  });

  it('names the missing binary and the fix in native mode', () => {
    const old = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      expect(() => stackScript(spec(), dir(), 'native')).toThrow(/spec.prometheus: prometheus is not on PATH; apt-get install prometheus, or set spec.prometheus.enabled: false/);
    } finally {
      process.env.PATH = old;
    }
  });

  it('refuses a stack with nothing enabled', () => {
    expect(() => stackScript(spec({ prometheus: { enabled: false }, pushgateway: { enabled: false }, grafana: { enabled: false } }), dir(), 'containers')).toThrow(/every component is disabled/);
  });
});
