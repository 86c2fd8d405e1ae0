// Grafana's provisioning folder for a MonitoringStack: the Prometheus
// datasource, the status API through the Infinity plugin (its bearer token read
// by Grafana from the token file, never copied) and the aifb dashboards.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The dashboards folder of this checkout (monitoring/grafana/dashboards), from source or from dist/. */
export function dashboardsDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, 'monitoring', 'grafana', 'dashboards');
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  throw new Error('monitoring/grafana/dashboards is missing from this checkout; reinstall aifb');
}

export interface ProvisioningInput {
  prometheusUrl?: string;
  /** The controller's status API and its token file, as Grafana sees them. */
  api?: { url: string; tokenFile: string };
  /** The dashboards folder, as Grafana sees it. */
  dashboards: string;
  /**
   * Where to write the datasources file instead of its place in the folder:
   * a template, when its URL names a port only the job learns (the job then
   * writes the file where Grafana reads it).
   */
  datasourcesTemplate?: string;
}

const yamlString = (s: string) => JSON.stringify(s);

export function datasourcesYaml(input: ProvisioningInput): string {
  const lines = ['# Written by aifb for a MonitoringStack.', 'apiVersion: 1', 'datasources:'];
  if (input.prometheusUrl) {
    lines.push('  - name: aifb Prometheus', '    uid: aifb-prometheus', '    type: prometheus', '    access: proxy', `    url: ${yamlString(input.prometheusUrl)}`, '    isDefault: true');
  }
  if (input.api) {
    lines.push(
      '  - name: aifb status API',
      '    uid: aifb-status-api',
      '    type: yesoreyeram-infinity-datasource',
      `    url: ${yamlString(input.api.url)}`,
      '    jsonData:',
      '      auth_method: bearerToken',
      `      allowedHosts: [${yamlString(input.api.url)}]`,
      '    secureJsonData:',
      `      bearerToken: ${yamlString(`$__file{${input.api.tokenFile}}`)}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

export function dashboardsYaml(input: ProvisioningInput): string {
  return [
    '# Written by aifb for a MonitoringStack.',
    'apiVersion: 1',
    'providers:',
    '  - name: aifb',
    '    type: file',
    '    folder: aifb',
    '    allowUiUpdates: false',
    '    options:',
    `      path: ${yamlString(input.dashboards)}`,
    '',
  ].join('\n');
}

/** Writes `<dir>/datasources/aifb.yaml` (or its template) and `<dir>/dashboards/aifb.yaml`; returns where Grafana reads the datasources. */
export function writeProvisioning(dir: string, input: ProvisioningInput): string {
  const datasources = join(dir, 'datasources', 'aifb.yaml');
  mkdirSync(join(dir, 'datasources'), { recursive: true });
  mkdirSync(join(dir, 'dashboards'), { recursive: true });
  writeFileSync(input.datasourcesTemplate ?? datasources, datasourcesYaml(input));
  writeFileSync(join(dir, 'dashboards', 'aifb.yaml'), dashboardsYaml(input));
  return datasources;
}
