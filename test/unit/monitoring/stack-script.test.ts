import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { MonitoringStackSpec } from '../../../api/schemas.js';
import { dashboardsDir } from '../../../monitoring/grafana-provisioning.js';
import { prometheusConfig, stackScript, type StackOptions } from '../../../monitoring/stack-script.js';

const spec = (over: Record<string, unknown> = {}) => MonitoringStackSpec.parse(over);
const dir = () => mkdtempSync(join(tmpdir(), 'aifb-stack-'));
const launch: Pick<StackOptions, 'launchId' | 'host'> = { launchId: 'monitoringstack.mon.g1.a1.stack', host: 'hostname' };

describe('stackScript', () => {
  it('runs each enabled component as a catalog container through the serve wrapper, on a port the job chooses unless the spec pins one', () => {
    const d = dir();
    const { lines, components, env, endpointFile } = stackScript(spec({ grafana: { enabled: false }, pushgateway: { port: 19091 } }), d, { mode: 'containers', ...launch });
    expect(components).toEqual(['prometheus', 'pushgateway']);
    const starts = lines.filter((l) => l.startsWith('start '));
    expect(starts[0]).toMatch(/^start prometheus apptainer run .*--bind .*prometheus\.yml:\/etc\/prometheus\/prometheus\.yml:ro.* docker:\/\/prom\/prometheus:v2\.53\.0 .*'--web\.listen-address=:\$\{AIFB_PORT\}'$/);
    expect(starts[1]).toMatch(/^start pushgateway apptainer run .*docker:\/\/prom\/pushgateway:v1\.9\.0 '--web\.listen-address=:\$\{AIFB_PORT\}' /);
    // Absent: the job chooses; pinned: the job checks it is free. The job writes the record itself.
    expect(env).toEqual({
      AIFB_PROMETHEUS_PORT: 'free',
      AIFB_PUSHGATEWAY_PORT: '19091',
      AIFB_STACK_ENDPOINT_FILE: join(d, 'endpoint.json'),
      AIFB_LAUNCH_ID: 'monitoringstack.mon.g1.a1.stack',
      AIFB_ENDPOINT_HOST: 'hostname',
    });
    expect(endpointFile).toBe(join(d, 'endpoint.json'));
    // The config names the ports the job chooses: a template, written where the job renders it from.
    expect(readFileSync(join(d, 'templates', 'prometheus.yml'), 'utf8')).toContain("targets: ['127.0.0.1:@AIFB_PUSHGATEWAY_PORT@']");
    expect(lines).toContain(`render ${join(d, 'templates', 'prometheus.yml')} ${join(d, 'prometheus.yml')}`);
    expect(lines.slice(-1)[0]).toMatch(/wait -n\nstatus=\$\?\ntrap '' TERM\nkill 0 2>\/dev\/null\nexit \$status$/);
    expect(execFileSync('bash', ['-n', '-c', lines.join('\n')], { encoding: 'utf8' })).toBe('');
  });

  it('refuses two components pinned to one port, naming the field', () => {
    const r = MonitoringStackSpec.safeParse({ prometheus: { port: 9090 }, pushgateway: { port: 9090 } });
    expect(r.success).toBe(false);
    expect(r.error!.issues).toMatchObject([{ path: ['pushgateway', 'port'], message: '9090 is also spec.prometheus.port; give each component its own port, or remove this one so that the job chooses a free port' }]);
    expect(MonitoringStackSpec.safeParse({ prometheus: { port: 9090 }, pushgateway: { port: 9090, enabled: false } }).success).toBe(true);
  });

  it('names the missing binary and the fix in native mode', () => {
    const old = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      expect(() => stackScript(spec(), dir(), { mode: 'native', ...launch })).toThrow(/spec.prometheus: prometheus is not on PATH; apt-get install prometheus, or set spec.prometheus.enabled: false/);
    } finally {
      process.env.PATH = old;
    }
  });

  it('refuses a stack with nothing enabled', () => {
    expect(() => stackScript(spec({ prometheus: { enabled: false }, pushgateway: { enabled: false }, grafana: { enabled: false } }), dir(), { mode: 'containers', ...launch })).toThrow(/every component is disabled/);
  });

  it('scrapes the controller with its bearer token file, in a config promtool accepts once the job put its ports in', () => {
    const d = dir();
    const tokenFile = join(d, 'api-token');
    writeFileSync(tokenFile, 'secret\n', { mode: 0o600 });
    stackScript(spec({ grafana: { enabled: false }, prometheus: { scrapeInterval: '1s' } }), d, { mode: 'containers', controller: { url: 'http://node1:8484', tokenFile }, ...launch });
    const template = readFileSync(join(d, 'templates', 'prometheus.yml'), 'utf8');
    expect(template).toBe(prometheusConfig({ prometheusPort: '@AIFB_PROMETHEUS_PORT@', pushgatewayPort: '@AIFB_PUSHGATEWAY_PORT@', controller: { url: 'http://node1:8484', tokenFile }, scrapeIntervalMs: 1000 }));
    expect(template).toContain('scrape_interval: 1000ms');
    expect(template).toMatch(/job_name: aifb-controller\n {4}metrics_path: \/metrics\n {4}scheme: http\n {4}authorization:\n {6}type: Bearer\n {6}credentials_file: ".*api-token"\n {4}static_configs:\n {6}- targets: \['node1:8484'\]/);
    expect(template).not.toContain('secret');
    // Debian's prometheus package ships promtool, the config checker Prometheus itself uses.
    const config = join(d, 'prometheus.yml');
    writeFileSync(config, template.replace('@AIFB_PROMETHEUS_PORT@', '41001').replace('@AIFB_PUSHGATEWAY_PORT@', '41002'));
    expect(execFileSync('promtool', ['check', 'config', config], { encoding: 'utf8' })).toMatch(/SUCCESS/);
  });

  it("provisions Grafana with both datasources and aifb's dashboards, the password off the command line", () => {
    const d = dir();
    const tokenFile = join(d, 'api-token');
    const { lines } = stackScript(spec(), d, { mode: 'containers', controller: { url: 'https://node1:8484', tokenFile }, ...launch });
    // Grafana reads Prometheus on the port the job chooses: the job renders the datasources where Grafana reads them.
    const template = join(d, 'templates', 'grafana-datasources.yaml');
    expect(lines).toContain(`render ${template} ${join(d, 'grafana-provisioning', 'datasources', 'aifb.yaml')}`);
    const datasources = readFileSync(template, 'utf8').replace('@AIFB_PROMETHEUS_PORT@', '41001');
    expect(datasources).toContain('uid: aifb-prometheus');
    expect(datasources).toContain('url: "http://127.0.0.1:41001"');
    expect(datasources).toContain('uid: aifb-status-api');
    expect(datasources).toContain(`bearerToken: "$__file{${tokenFile}}"`);
    // Grafana's provisioning shape (apiVersion 1, datasources with name/type/uid/url; providers of type file with a path).
    expect(parse(datasources)).toEqual({
      apiVersion: 1,
      datasources: [
        { name: 'aifb Prometheus', uid: 'aifb-prometheus', type: 'prometheus', access: 'proxy', url: 'http://127.0.0.1:41001', isDefault: true },
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
    const grafana = lines.find((l) => l.startsWith('start grafana '))!;
    expect(grafana).toContain('docker://grafana/grafana:11.1.0');
    expect(grafana).toContain("--env 'GF_SERVER_HTTP_PORT=${AIFB_PORT}'");
    expect(grafana).toContain(`GF_PATHS_PROVISIONING=${join(d, 'grafana-provisioning')}`);
    expect(grafana).toContain(`${dashboardsDir()}:${dashboardsDir()}:ro`);
    expect(grafana).toContain(`${tokenFile}:${tokenFile}:ro`);
    expect(grafana).not.toMatch(/ADMIN_PASSWORD/);
    expect(readFileSync(join(d, 'templates', 'prometheus.yml'), 'utf8')).toContain('insecure_skip_verify: true');
  });
});
