// The job script body of a MonitoringStack: Prometheus, Pushgateway and Grafana
// started together, as host binaries (Debian's packages) or as Apptainer
// containers from the catalog; when any of them exits, the script ends.
//
// Each component listens on the port its spec pins, else on one the job finds
// free on its node when it starts, so two stacks (or a neighbour's Prometheus)
// on a shared node never collide. Every port is chosen before anything starts,
// because each component's config names another's (Prometheus scrapes the
// Pushgateway, Grafana reads Prometheus): the controller writes the configs as
// templates and the job fills in the ports. Each component runs under the
// Service's serve wrapper (containers/serve-script.ts), which confirms that the
// socket listening on its port is that component's; the job then writes the
// stack's endpoint record itself, with the same ownership facts a Service's
// record carries (launch id, SLURM job id, its own pid), so the controller
// trusts only a record its own launch wrote, and probes only servers that are
// the stack's.
import { accessSync, constants, mkdirSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { runCommand } from '../containers/apptainer.js';
import { PORT_REF, SOCKETS_ON, serveCommand, type EndpointHost } from '../containers/serve-script.js';
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

/** How a config template names a component's port; the job replaces it with the port it chose. */
export const portPlaceholder = (c: Component): string => `@AIFB_${c.toUpperCase()}_PORT@`;

/** The environment variable that tells the job a component's port: a pinned number, or `free`. */
export const portVariable = (c: Component): string => `AIFB_${c.toUpperCase()}_PORT`;

/** The controller's status API as Prometheus scrapes it: its URL and the bearer token file. */
export interface ControllerTarget {
  url: string;
  tokenFile: string;
}

type Port = number | string;

export function prometheusConfig(opts: { prometheusPort: Port; pushgatewayPort?: Port; controller?: ControllerTarget; scrapeIntervalMs: number }): string {
  const jobs = [`  - job_name: prometheus\n    static_configs:\n      - targets: ['127.0.0.1:${opts.prometheusPort}']`];
  if (opts.pushgatewayPort !== undefined) jobs.push(`  - job_name: pushgateway\n    honor_labels: true\n    static_configs:\n      - targets: ['127.0.0.1:${opts.pushgatewayPort}']`);
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
  /** The launch the job runs as: its endpoint record says so, for the controller to check. */
  launchId: string;
  /** What the record gives as the host: the address the controller probes locally, the node's name or an interface's address under SLURM. */
  host: EndpointHost;
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

// Ports are written as ${AIFB_PORT}: the serve wrapper puts the component's port in its place.
function nativeArgv(c: Component, spec: MonitoringStackSpec, dir: string, setup: Setup): string[] {
  const bin = findBinary(BINARIES[c]);
  if (!bin) throw new Error(`spec.${c}: ${BINARIES[c][0]} is not on PATH; ${INSTALL_HINT[c]}, or set spec.${c}.enabled: false`);
  if (c === 'prometheus') return [bin, `--config.file=${setup.config}`, `--storage.tsdb.path=${join(dir, 'prometheus-data')}`, `--web.listen-address=0.0.0.0:${PORT_REF}`];
  if (c === 'pushgateway') return [bin, `--web.listen-address=0.0.0.0:${PORT_REF}`, `--persistence.file=${join(setup.persist, 'pushgateway.data')}`];
  const env = { GF_SERVER_HTTP_PORT: PORT_REF, GF_PATHS_DATA: join(dir, 'grafana-data'), ...grafanaEnv(spec, setup.provisioning) };
  return ['env', ...Object.entries(env).map(([k, v]) => `${k}=${v}`), bin];
}

function containerArgv(c: Component, spec: MonitoringStackSpec, dir: string, setup: Setup, images: { sifCache?: string; requireCached?: boolean }): string[] {
  // Files the component reads are bound at the same path, so the generated configs name host paths.
  const token = setup.controller ? [`${setup.controller.tokenFile}:${setup.controller.tokenFile}:ro`] : [];
  const binds =
    c === 'prometheus'
      ? [`${setup.config}:/etc/prometheus/prometheus.yml:ro`, ...token]
      : c === 'grafana'
        ? [`${setup.provisioning}:${setup.provisioning}:ro`, `${setup.dashboards}:${setup.dashboards}:ro`, ...token]
        : [`${setup.persist}:/pushgateway`];
  const env = c === 'grafana' ? grafanaEnv(spec, setup.provisioning) : {};
  const args = c === 'pushgateway' ? [`--web.listen-address=:${PORT_REF}`, '--persistence.file=/pushgateway/pushgateway.data'] : [];
  const container = serviceContainer(
    { type: c, image: spec[c].image, port: spec[c].port, gpus: 0, args, env, binds },
    { dataDir: join(dir, `${c}-data`), jobPort: true, ...images },
  );
  for (const d of container.writableDirs) mkdirSync(d, { recursive: true });
  return runCommand(container);
}

// A template literal: \${ is bash's own ${, \\ a backslash. Set before it:
// components (the enabled ones, in start order), dir, AIFB_SERVE (the serve
// wrapper's script); in the environment: AIFB_<C>_PORT, AIFB_STACK_ENDPOINT_FILE,
// AIFB_LAUNCH_ID, AIFB_ENDPOINT_HOST (read by the wrappers).
const STACK = `set -uo pipefail
say() { printf 'aifb-stack: %s\\n' "$*" >&2; }
${SOCKETS_ON}
declare -A port pid
taken=' '
for c in "\${components[@]}"; do var=AIFB_\${c^^}_PORT; [ "\${!var}" = free ] || taken+="\${!var} "; done
read -r lo hi < /proc/sys/net/ipv4/ip_local_port_range
for c in "\${components[@]}"; do
  var=AIFB_\${c^^}_PORT; p=\${!var}
  if [ "$p" != free ]; then
    # A listener only: a relaunch's own old connections on a pinned port linger and do not stop a bind.
    [ -z "$(sockets_on "$p" | awk '$1 == "0A"')" ] || { say "port $p (spec.$c.port) is already in use on $(hostname) by another process; remove spec.$c.port so that the job chooses a free port"; exit 75; }
  else
    for ((try = 0; try < 100; try++)); do
      q=$((lo + ((RANDOM << 15) | RANDOM) % (hi - lo + 1)))
      if [[ $taken != *" $q "* ]] && [ -z "$(sockets_on "$q")" ]; then p=$q; break; fi
    done
    [ "$p" != free ] || { say "found no free port for $c in $lo-$hi on $(hostname) after 100 tries"; exit 75; }
    taken+="$p "
  fi
  port[$c]=$p
done
# render TEMPLATE FILE: the controller's template with the chosen ports in place.
render() {
  local t c; t=$(<"$1") || exit 1
  for c in "\${components[@]}"; do t=\${t//"@AIFB_\${c^^}_PORT@"/\${port[$c]}}; done
  printf '%s\\n' "$t" > "$2.tmp" && mv -f "$2.tmp" "$2" || exit 1
}
# start C ARGV...: through the serve wrapper, which records who holds the port once C listens.
start() {
  local c=$1; shift
  rm -f "$dir/$c.endpoint.json"
  AIFB_PORT=\${port[$c]} AIFB_ENDPOINT_FILE=$dir/$c.endpoint.json bash -c "$AIFB_SERVE" aifb-serve "$@" &
  pid[$c]=$!
}
alive() { local s; read -r s 2>/dev/null < "/proc/$1/stat" || return 1; s=\${s##*) }; [ "\${s%% *}" != Z ]; }
# A component that ended before it listened ends the stack, with its code.
check() {
  local c rc
  for c in "\${components[@]}"; do
    alive "\${pid[$c]}" && continue
    wait "\${pid[$c]}"; rc=$?
    say "$c ended (exit $rc) before it listened on port \${port[$c]}"
    trap '' TERM; kill 0 2>/dev/null; exit "$rc"
  done
}
ports=''
for c in "\${components[@]}"; do ports+=",\\"$c\\":\${port[$c]}"; done
record() {
  printf '{"host":"%s","port":%s,"launchId":"%s","pid":%s%s,"ports":{%s}%s}\\n' "$host" "\${port[\${components[0]}]}" "$AIFB_LAUNCH_ID" "$$" \\
    "\${SLURM_JOB_ID:+,\\"jobId\\":\\"$SLURM_JOB_ID\\"}" "\${ports#,}" "$1" > "$AIFB_STACK_ENDPOINT_FILE.tmp" && mv -f "$AIFB_STACK_ENDPOINT_FILE.tmp" "$AIFB_STACK_ENDPOINT_FILE"
}
`;

// After the renders and starts: the record once the host is known, again once every port's holder is confirmed.
const WATCH = `# The wrappers resolve the host (the node's name, or spec.slurm.interface's address) before they start anything.
re_host='"host":"([^"]+)"'; re_listener='"listenerPid":([0-9]+)'
host=''
while :; do
  check
  [[ $(cat "$dir/\${components[0]}.endpoint.json" 2>/dev/null) =~ $re_host ]] && { host=\${BASH_REMATCH[1]}; break; }
  sleep 0.2
done
record ''
while :; do
  check; held=''
  for c in "\${components[@]}"; do
    [[ $(cat "$dir/$c.endpoint.json" 2>/dev/null) =~ $re_listener ]] || { held=''; break; }
    held+=",\\"$c\\":\${BASH_REMATCH[1]}"
  done
  [ -z "$held" ] || break
  sleep 0.5
done
record ",\\"listenerPids\\":{\${held#,}}"
wait -n
status=$?
trap '' TERM
kill 0 2>/dev/null
exit $status`;

export interface StackScript {
  /** The job's shell body, one line per step. */
  lines: string[];
  /** Plain variables for the launch: the ports asked for, where the record goes, which launch it is for. */
  env: Record<string, string>;
  components: Component[];
  /** Where the job writes the stack's endpoint record. */
  endpointFile: string;
}

/**
 * The shell body that chooses the ports, writes Prometheus's config (the
 * Pushgateway and the controller as targets) and Grafana's provisioning with
 * them, starts every enabled component in the background, writes the endpoint
 * record, and waits: when the first component exits, the rest are taken down
 * and the job ends. Writes the config templates into dir. Throws with an
 * install hint when a native binary is missing.
 */
export function stackScript(spec: MonitoringStackSpec, dir: string, opts: StackOptions): StackScript {
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
  const templates = join(dir, 'templates');
  mkdirSync(templates, { recursive: true });
  const renders: [string, string][] = [];
  if (spec.prometheus.enabled) {
    const template = join(templates, 'prometheus.yml');
    writeFileSync(
      template,
      prometheusConfig({
        prometheusPort: portPlaceholder('prometheus'),
        pushgatewayPort: spec.pushgateway.enabled ? portPlaceholder('pushgateway') : undefined,
        controller: opts.controller,
        scrapeIntervalMs: spec.prometheus.scrapeInterval,
      }),
    );
    renders.push([template, setup.config]);
  }
  if (spec.grafana.enabled) {
    const template = join(templates, 'grafana-datasources.yaml');
    const datasources = writeProvisioning(setup.provisioning, {
      // Grafana runs on the same node as Prometheus.
      prometheusUrl: spec.prometheus.enabled ? `http://127.0.0.1:${portPlaceholder('prometheus')}` : undefined,
      api: opts.controller,
      dashboards: setup.dashboards,
      datasourcesTemplate: template,
    });
    renders.push([template, datasources]);
  }
  const argv = (c: Component) => (opts.mode === 'native' ? nativeArgv(c, spec, dir, setup) : containerArgv(c, spec, dir, setup, { sifCache: opts.sifCache, requireCached: opts.requireCached }));
  const starts = components.map((c) => ['start', c, ...argv(c)].map(shellQuote).join(' '));
  const endpointFile = join(dir, 'endpoint.json');
  const wrapper = serveCommand([], { ports: 1, endpointFile, host: opts.host, launchId: opts.launchId });
  const lines = [
    '# aifb-stack: chooses the ports, writes the configs with them, starts each component through the serve wrapper, writes where they answer.',
    `components=(${components.join(' ')})`,
    `dir=${shellQuote(dir)}`,
    // The wrapper's script is argv[2] of its command: bash -c SCRIPT aifb-serve ARGV...
    `AIFB_SERVE=${shellQuote(wrapper.command[2])}`,
    STACK,
    ...renders.map(([template, file]) => `render ${shellQuote(template)} ${shellQuote(file)}`),
    ...starts,
    WATCH,
  ];
  const env: Record<string, string> = {
    AIFB_STACK_ENDPOINT_FILE: endpointFile,
    AIFB_LAUNCH_ID: opts.launchId,
    AIFB_ENDPOINT_HOST: wrapper.env.AIFB_ENDPOINT_HOST,
  };
  for (const c of components) env[portVariable(c)] = spec[c].port === undefined ? 'free' : String(spec[c].port);
  return { lines, env, components, endpointFile };
}
