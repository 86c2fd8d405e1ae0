// How the local executor runs a MonitoringStack: Prometheus, Pushgateway and
// Grafana as host binaries (Debian's packages), under one process group.
import { accessSync, constants, mkdirSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { MonitoringStackSpec } from '../controller/api/schemas.js';

export type Component = 'prometheus' | 'pushgateway' | 'grafana';

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
  return `# Written by aifb for a local MonitoringStack.\nglobal:\n  scrape_interval: 5s\nscrape_configs:\n${jobs.join('\n')}\n`;
}

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * The shell script that starts every enabled component in the background and
 * waits: when any of them exits, the script ends and the executor sees it.
 * Throws with an install hint when a binary is missing.
 */
export function localStackScript(spec: MonitoringStackSpec, dir: string): { script: string; components: Component[] } {
  mkdirSync(dir, { recursive: true });
  const lines: string[] = [];
  const components: Component[] = [];
  const missing: string[] = [];
  const bin = (c: Component) => {
    const found = findBinary(BINARIES[c]);
    if (!found) missing.push(`spec.${c}: ${BINARIES[c][0]} is not on PATH; ${INSTALL_HINT[c]}, or set spec.${c}.enabled: false`);
    return found ?? BINARIES[c][0];
  };
  if (spec.prometheus.enabled) {
    const config = join(dir, 'prometheus.yml');
    writeFileSync(config, prometheusConfig(spec.pushgateway.enabled ? spec.pushgateway.port : undefined, spec.prometheus.port));
    lines.push(
      `${q(bin('prometheus'))} --config.file=${q(config)} --storage.tsdb.path=${q(join(dir, 'prometheus-data'))} --web.listen-address=127.0.0.1:${spec.prometheus.port} &`,
    );
    components.push('prometheus');
  }
  if (spec.pushgateway.enabled) {
    lines.push(`${q(bin('pushgateway'))} --web.listen-address=127.0.0.1:${spec.pushgateway.port} &`);
    components.push('pushgateway');
  }
  if (spec.grafana.enabled) {
    lines.push(`GF_SERVER_HTTP_PORT=${spec.grafana.port} GF_PATHS_DATA=${q(join(dir, 'grafana-data'))} ${q(bin('grafana'))} &`);
    components.push('grafana');
  }
  if (missing.length > 0) throw new Error(missing.join('; '));
  // `wait -n` returns when the first component exits; then take the rest down too.
  lines.push('wait -n', 'status=$?', 'kill 0 2>/dev/null', 'exit $status');
  return { script: lines.join('\n'), components };
}
