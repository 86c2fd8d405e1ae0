// The job script body of a MonitoringStack: Prometheus, Pushgateway and Grafana
// started together, as host binaries (Debian's packages) or as Apptainer
// containers from the catalog; when any of them exits, the script ends.
import { accessSync, constants, mkdirSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { runCommand } from '../containers/apptainer.js';
import { serviceContainer } from '../containers/service-container.js';
import type { MonitoringStackSpec } from '../api/schemas.js';
import { shellQuote } from '../slurm/quote.js';
import { dashboardsDir, writeProvisioning } from './grafana-provisioning.js';

export type Component = 'prometheus' | 'pushgateway' | 'grafana';
export type StackMode = 'native' | 'containers';
const COMPONENTS: Component[] = ['prometheus', 'pushgateway', 'grafana'];

/** Binary names to look for on PATH, in order (Debian names first). */
const BINARIES: Record<Component, string[]> = {
  prometheus: ['prometheus'],
  pushgateway: ['prometheus-pushgateway', 'pushgateway'],
  grafana: ['grafana-server', 'grafana'],
};

const INSTALL_HINT: Record<Component, string> = {
  prometheus: 'apt-get install prometheus',
  pushgateway: 'apt-get install prometheus-pushgateway',
  grafana: 'install Grafana from grafana.com',
};

export function findBinary(names: string[], path = process.env.PATH ?? ''): string | undefined {
  for (const dir of path.split(delimiter).filter(Boolean)) {
    for (const name of names) {
      try {
        accessSync(join(dir, name), constants.X_OK);
        return join(dir, name);
      } catch {
        /* not here */
      }
    }
  }
  return undefined;
}

/** The controller's status API as Prometheus scrapes it: its URL and the bearer token file. */
export interface ControllerTarget {
  url: string;
  tokenFile: string;
}

export function prometheusConfig(opts: { prometheusPort: number; pushgatewayPort?: number; controller?: ControllerTarget; scrapeIntervalMs: number }): string {
  const jobs = [`  - job_name: prometheus\n    static_configs:\n      - targets: ['127.0.0.1:${opts.prometheusPort}']`];
  if (opts.pushgatewayPort) jobs.push(`  - job_name: pushgateway\n    honor_labels: true\n    static_configs:\n      - targets: ['127.0.0.1:${opts.pushgatewayPort}']`);
  if (opts.controller) {
    const api = new URL(opts.controller.url);
    const https = api.protocol === 'https:';
    jobs.push(
      [
        '  - job_name: aifb-controller',
        '    metrics_path: /metrics',
        `    scheme: ${https ? 'https' : 'http'}`,
        '    authorization:',
        '      type: Bearer',
        `      credentials_file: ${JSON.stringify(opts.controller.tokenFile)}`,
        // A self-signed certificate is the norm for a controller on a compute node.
        ...(https ? ['    tls_config:', '      insecure_skip_verify: true'] : []),
        '    static_configs:',
        `      - targets: ['${api.host}']`,
      ].join('\n'),
    );
  }
  return `# Written by aifb for a MonitoringStack.\nglobal:\n  scrape_interval: ${opts.scrapeIntervalMs}ms\nscrape_configs:\n${jobs.join('\n')}\n`;
}

/** Every enabled component's binary is on PATH: the stack can run without containers. */
export function nativeAvailable(spec: MonitoringStackSpec): boolean {
  return COMPONENTS.every((c) => !spec[c].enabled || findBinary(BINARIES[c]) !== undefined);
}

export interface StackOptions {
  mode: StackMode;
  sifCache?: string;
  /** Catalog images must be in sifCache (under SLURM; see resolveImage). */
  requireCached?: boolean;
  /** Scraped by Prometheus and read by Grafana's status-API datasource, once the API listens. */
  controller?: ControllerTarget;
}

/** What a component is started with besides its binary or image: config files, env, binds. */
interface Setup {
  config: string;
  provisioning: string;
  dashboards: string;
  controller?: ControllerTarget;
  /** Outlives one attempt of the stack: what was pushed survives a restart. */
  persist: string;
}

function grafanaEnv(spec: MonitoringStackSpec, provisioning: string): Record<string, string> {
  return { GF_PATHS_PROVISIONING: provisioning, GF_SECURITY_ADMIN_USER: spec.grafana.adminUser, GF_USERS_ALLOW_SIGN_UP: 'false', GF_ANALYTICS_REPORTING_ENABLED: 'false' };
}

function nativeLine(c: Component, spec: MonitoringStackSpec, dir: string, setup: Setup): string {
  const bin = findBinary(BINARIES[c]);
  if (!bin) throw new Error(`spec.${c}: ${BINARIES[c][0]} is not on PATH; ${INSTALL_HINT[c]}, or set spec.${c}.enabled: false`);
  const port = spec[c].port;
  if (c === 'prometheus') {
    return `${shellQuote(bin)} --config.file=${shellQuote(setup.config)} --storage.tsdb.path=${shellQuote(join(dir, 'prometheus-data'))} --web.listen-address=0.0.0.0:${port} &`;
  }
  if (c === 'pushgateway') return `${shellQuote(bin)} --web.listen-address=0.0.0.0:${port} --persistence.file=${shellQuote(join(setup.persist, 'pushgateway.data'))} &`;
  const env = { GF_SERVER_HTTP_PORT: String(port), GF_PATHS_DATA: join(dir, 'grafana-data'), ...grafanaEnv(spec, setup.provisioning) };
  return `${Object.entries(env).map(([k, v]) => `${k}=${shellQuote(v)}`).join(' ')} ${shellQuote(bin)} &`;
}

function containerLine(c: Component, spec: MonitoringStackSpec, dir: string, setup: Setup, images: { sifCache?: string; requireCached?: boolean }): string {
  // Files the component reads are bound at the same path, so the generated configs name host paths.
  const token = setup.controller ? [`${setup.controller.tokenFile}:${setup.controller.tokenFile}:ro`] : [];
  const binds =
    c === 'prometheus'
      ? [`${setup.config}:/etc/prometheus/prometheus.yml:ro`, ...token]
      : c === 'grafana'
        ? [`${setup.provisioning}:${setup.provisioning}:ro`, `${setup.dashboards}:${setup.dashboards}:ro`, ...token]
        : [`${setup.persist}:/pushgateway`];
  const env = c === 'grafana' ? grafanaEnv(spec, setup.provisioning) : {};
  const args = c === 'pushgateway' ? [`--web.listen-address=:${spec[c].port}`, '--persistence.file=/pushgateway/pushgateway.data'] : [];
  const container = serviceContainer({ type: c, image: spec[c].image, port: spec[c].port, gpus: 0, args, env, binds }, { dataDir: join(dir, `${c}-data`), ...images });
  for (const d of container.writableDirs) mkdirSync(d, { recursive: true });
  return `${runCommand(container).map(shellQuote).join(' ')} &`;
}

/**
 * The shell body that starts every enabled component in the background and
 * waits: when the first one exits, the rest are taken down and the job ends.
 * Writes Prometheus's config (the Pushgateway and the controller as targets)
 * and Grafana's provisioning into dir. Throws with an install hint when a
 * native binary is missing.
 */
export function stackScript(spec: MonitoringStackSpec, dir: string, opts: StackOptions): { lines: string[]; components: Component[] } {
  mkdirSync(dir, { recursive: true });
  const components = COMPONENTS.filter((c) => spec[c].enabled);
  if (components.length === 0) throw new Error('spec: every component is disabled; enable at least one of prometheus, pushgateway, grafana');
  const setup: Setup = {
    config: join(dir, 'prometheus.yml'),
    provisioning: join(dir, 'grafana-provisioning'),
    dashboards: dashboardsDir(),
    controller: opts.controller,
    persist: join(dirname(dir), 'pushgateway-data'),
  };
  mkdirSync(setup.persist, { recursive: true });
  writeFileSync(
    setup.config,
    prometheusConfig({
      prometheusPort: spec.prometheus.port,
      pushgatewayPort: spec.pushgateway.enabled ? spec.pushgateway.port : undefined,
      controller: opts.controller,
      scrapeIntervalMs: spec.prometheus.scrapeInterval,
    }),
  );
  if (spec.grafana.enabled) {
    writeProvisioning(setup.provisioning, {
      // Grafana runs on the same node as Prometheus.
      prometheusUrl: spec.prometheus.enabled ? `http://127.0.0.1:${spec.prometheus.port}` : undefined,
      api: opts.controller,
      dashboards: setup.dashboards,
    });
  }
  const lines = components.map((c) => (opts.mode === 'native' ? nativeLine(c, spec, dir, setup) : containerLine(c, spec, dir, setup, { sifCache: opts.sifCache, requireCached: opts.requireCached })));
  lines.push('wait -n', 'status=$?', 'kill 0 2>/dev/null', 'exit $status');
  return { lines, components };
}
