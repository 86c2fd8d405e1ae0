import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { MonitoringStackSpec } from '../../../api/schemas.js';
import { dashboardsDir } from '../../../monitoring/grafana-provisioning.js';
import { stackScript } from '../../../monitoring/stack-script.js';

const spec = (over: Record<string, unknown> = {}) => MonitoringStackSpec.parse(over);
const dir = () => mkdtempSync(join(tmpdir(), 'aifb-stack-'));

describe('stackScript', () => {
  it('runs each enabled component as a catalog container, Prometheus with its config bound in', () => {
    const d = dir();
    const { lines, components } = stackScript(spec({ grafana: { enabled: false } }), d, { mode: 'containers' });
    expect(components).toEqual(['prometheus', 'pushgateway']);
    expect(lines[0]).toMatch(/^apptainer run .*--bind .*prometheus\.yml:\/etc\/prometheus\/prometheus\.yml:ro.* docker:\/\/prom\/prometheus:v2\.53\.0 .*--web\.listen-address=:9090 &$/);
    expect(lines[1]).toMatch(/docker:\/\/prom\/pushgateway:v1\.9\.0 .*&$/);
    expect(lines.slice(-4)).toEqual(['wait -n', 'status=$?', 'kill 0 2>/dev/null', 'exit $status']);
    expect(readFileSync(join(d, 'prometheus.yml'), 'utf8')).toContain("targets: ['127.0.0.1:9091']");
  });

  it('names the missing binary and the fix in native mode', () => {
    const old = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      expect(() => stackScript(spec(), dir(), { mode: 'native' })).toThrow(/spec.prometheus: prometheus is not on PATH; apt-get install prometheus, or set spec.prometheus.enabled: false/);
    } finally {
      process.env.PATH = old;
    }
  });

  it('refuses a stack with nothing enabled', () => {
    expect(() => stackScript(spec({ prometheus: { enabled: false }, pushgateway: { enabled: false }, grafana: { enabled: false } }), dir(), { mode: 'containers' })).toThrow(/every component is disabled/);
  });

  it('scrapes the controller with its bearer token file, in a config promtool accepts', () => {
    const d = dir();
    const tokenFile = join(d, 'api-token');
    writeFileSync(tokenFile, 'secret\n', { mode: 0o600 });
    stackScript(spec({ grafana: { enabled: false }, prometheus: { scrapeInterval: '1s' } }), d, { mode: 'containers', controller: { url: 'http://node1:8484', tokenFile } });
    const config = readFileSync(join(d, 'prometheus.yml'), 'utf8');
    expect(config).toContain('scrape_interval: 1000ms');
    expect(config).toMatch(/job_name: aifb-controller\n {4}metrics_path: \/metrics\n {4}scheme: http\n {4}authorization:\n {6}type: Bearer\n {6}credentials_file: ".*api-token"\n {4}static_configs:\n {6}- targets: \['node1:8484'\]/);
    expect(config).not.toContain('secret');
    // Debian's prometheus package ships promtool, the config checker Prometheus itself uses.
    expect(execFileSync('promtool', ['check', 'config', join(d, 'prometheus.yml')], { encoding: 'utf8' })).toMatch(/SUCCESS/);
  });

  it("provisions Grafana with both datasources and aifb's dashboards, the password off the command line", () => {
    const d = dir();
    const tokenFile = join(d, 'api-token');
    const { lines } = stackScript(spec(), d, { mode: 'containers', controller: { url: 'https://node1:8484', tokenFile } });
    const datasources = readFileSync(join(d, 'grafana-provisioning', 'datasources', 'aifb.yaml'), 'utf8');
    expect(datasources).toContain('uid: aifb-prometheus');
    expect(datasources).toContain('url: "http://127.0.0.1:9090"');
    expect(datasources).toContain('uid: aifb-status-api');
    expect(datasources).toContain(`bearerToken: "$__file{${tokenFile}}"`);
    // Grafana's provisioning shape (apiVersion 1, datasources with name/type/uid/url; providers of type file with a path).
    expect(parse(datasources)).toEqual({
      apiVersion: 1,
      datasources: [
        { name: 'aifb Prometheus', uid: 'aifb-prometheus', type: 'prometheus', access: 'proxy', url: 'http://127.0.0.1:9090', isDefault: true },
        {
          name: 'aifb status API',
          uid: 'aifb-status-api',
          type: 'yesoreyeram-infinity-datasource',
          url: 'https://node1:8484',
          jsonData: { auth_method: 'bearerToken', allowedHosts: ['https://node1:8484'] },
          secureJsonData: { bearerToken: `$__file{${tokenFile}}` },
        },
      ],
    });
    const provider = readFileSync(join(d, 'grafana-provisioning', 'dashboards', 'aifb.yaml'), 'utf8');
    expect(parse(provider)).toEqual({ apiVersion: 1, providers: [{ name: 'aifb', type: 'file', folder: 'aifb', allowUiUpdates: false, options: { path: dashboardsDir() } }] });
    expect(provider).toContain(`path: "${dashboardsDir()}"`);
    expect(existsSync(join(dashboardsDir(), 'ai-factory-benchmarking.json'))).toBe(true);
    const grafana = lines.find((l) => l.includes('grafana/grafana'))!;
    expect(grafana).toContain(`GF_PATHS_PROVISIONING=${join(d, 'grafana-provisioning')}`);
    expect(grafana).toContain(`${dashboardsDir()}:${dashboardsDir()}:ro`);
    expect(grafana).toContain(`${tokenFile}:${tokenFile}:ro`);
    expect(grafana).not.toMatch(/ADMIN_PASSWORD/);
    expect(readFileSync(join(d, 'prometheus.yml'), 'utf8')).toContain('insecure_skip_verify: true');
  });
});
