// The SSH line a user types on a laptop to reach a MonitoringStack on a
// compute node through the login node (the guide's section 7.5), one -L per
// component, so http://localhost:3000 is Grafana on the laptop: the laptop
// keeps each component's well-known port whatever free port its job chose on
// the node.
import { hostname, userInfo } from 'node:os';
import type { MonitoringStackSpec } from '../api/schemas.js';

type Endpoints = Partial<Record<string, { host: string; port: number }>>;

/** The port each component has on the laptop: the one its users and the guide expect. */
const LAPTOP_PORTS: Record<string, number> = { prometheus: 9090, pushgateway: 9091, grafana: 3000 };

/** Where the controller was submitted from (SLURM tells its jobs), else this host. */
function defaultLoginHost(): string {
  return process.env.SLURM_SUBMIT_HOST || hostname();
}

function defaultUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? '<username>';
  }
}

export function tunnelCommand(access: MonitoringStackSpec['access'], endpoints: Endpoints): string {
  const forwards = Object.entries(endpoints)
    .filter((entry): entry is [string, { host: string; port: number }] => entry[1] !== undefined)
    .map(([component, e]) => `-L ${LAPTOP_PORTS[component] ?? e.port}:${e.host}:${e.port}`);
  const port = access.sshPort === 22 ? '' : ` -p ${access.sshPort}`;
  return `ssh ${forwards.join(' ')} ${access.user ?? defaultUser()}@${access.loginHost ?? defaultLoginHost()}${port}`;
}
