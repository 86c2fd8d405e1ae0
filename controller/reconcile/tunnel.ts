// The SSH line a user types on a laptop to reach a MonitoringStack on a
// compute node through the login node (the guide's section 7.5), one -L per
// component, so http://localhost:3000 is Grafana on the laptop.
import { hostname, userInfo } from 'node:os';
import type { MonitoringStackSpec } from '../api/schemas.js';

type Endpoints = Partial<Record<string, { host: string; port: number }>>;

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
  const forwards = Object.values(endpoints)
    .filter((e): e is { host: string; port: number } => e !== undefined)
    .map((e) => `-L ${e.port}:${e.host}:${e.port}`);
  const port = access.sshPort === 22 ? '' : ` -p ${access.sshPort}`;
  return `ssh ${forwards.join(' ')} ${access.user ?? defaultUser()}@${access.loginHost ?? defaultLoginHost()}${port}`;
}
