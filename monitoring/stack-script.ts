// The job script body of a MonitoringStack: Prometheus, Pushgateway and Grafana
// started together, as host binaries (Debian's packages) or as Apptainer
// containers from the catalog; when any of them exits, the script ends.
import { accessSync, constants, mkdirSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { runCommand } from '../containers/apptainer.js';
import { serviceContainer } from '../containers/service-container.js';
import type { MonitoringStackSpec } from '../api/schemas.js';
import { shellQuote } from '../slurm/quote.js';

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

export function prometheusConfig(pushgatewayPort: number | undefined, prometheusPort: number): string {
  const jobs = [`  - job_name: prometheus\n    static_configs:\n      - targets: ['127.0.0.1:${prometheusPort}']`];
  if (pushgatewayPort) jobs.push(`  - job_name: pushgateway\n    honor_labels: true\n    static_configs:\n      - targets: ['127.0.0.1:${pushgatewayPort}']`);
  return `# Written by aifb for a MonitoringStack.\nglobal:\n  scrape_interval: 5s\nscrape_configs:\n${jobs.join('\n')}\n`;
}

/** Every enabled component's binary is on PATH: the stack can run without containers. */
export function nativeAvailable(spec: MonitoringStackSpec): boolean {
  return COMPONENTS.every((c) => !spec[c].enabled || findBinary(BINARIES[c]) !== undefined);
}

function nativeLine(c: Component, spec: MonitoringStackSpec, dir: string, config: string): string {
  const bin = findBinary(BINARIES[c]);
  if (!bin) throw new Error(`spec.${c}: ${BINARIES[c][0]} is not on PATH; ${INSTALL_HINT[c]}, or set spec.${c}.enabled: false`);
  const port = spec[c].port;
  if (c === 'prometheus') {
    return `${shellQuote(bin)} --config.file=${shellQuote(config)} --storage.tsdb.path=${shellQuote(join(dir, 'prometheus-data'))} --web.listen-address=0.0.0.0:${port} &`;
  }
  if (c === 'pushgateway') return `${shellQuote(bin)} --web.listen-address=0.0.0.0:${port} &`;
  return `GF_SERVER_HTTP_PORT=${port} GF_PATHS_DATA=${shellQuote(join(dir, 'grafana-data'))} ${shellQuote(bin)} &`;
}

function containerLine(c: Component, spec: MonitoringStackSpec, dir: string, config: string, sifCache?: string): string {
  const binds = c === 'prometheus' ? [`${config}:/etc/prometheus/prometheus.yml:ro`] : [];
  const container = serviceContainer(
    { type: c, image: spec[c].image, port: spec[c].port, gpus: 0, args: [], env: {}, binds },
    { dataDir: join(dir, `${c}-data`), sifCache },
  );
  for (const d of container.writableDirs) mkdirSync(d, { recursive: true });
  return `${runCommand(container).map(shellQuote).join(' ')} &`;
}

/**
 * The shell body that starts every enabled component in the background and
 * waits: when the first one exits, the rest are taken down and the job ends.
 * Throws with an install hint when a native binary is missing.
 */
export function stackScript(spec: MonitoringStackSpec, dir: string, mode: StackMode, sifCache?: string): { lines: string[]; components: Component[] } {
  mkdirSync(dir, { recursive: true });
  const components = COMPONENTS.filter((c) => spec[c].enabled);
  if (components.length === 0) throw new Error('spec: every component is disabled; enable at least one of prometheus, pushgateway, grafana');
  const config = join(dir, 'prometheus.yml');
  writeFileSync(config, prometheusConfig(spec.pushgateway.enabled ? spec.pushgateway.port : undefined, spec.prometheus.port));
  const lines = components.map((c) => (mode === 'native' ? nativeLine(c, spec, dir, config) : containerLine(c, spec, dir, config, sifCache)));
  lines.push('wait -n', 'status=$?', 'kill 0 2>/dev/null', 'exit $status');
  return { lines, components };
}
