// Where the controller keeps things: the watched resources folder, the state
// folder beside it (.aifb/), and the reports folder beside it (reports/).
import { dirname, join, resolve } from 'node:path';

export interface Paths {
  resourcesDir: string;
  stateDir: string;
  reportsDir: string;
  /** SQLite results database. */
  resultsDb: string;
  /** Written while a controller runs: where its status API listens. */
  controllerFile: string;
  runsDir: string;
  machinesDir: string;
}

/** Flags first, then AIFB_RESOURCES / AIFB_STATE / AIFB_REPORTS, then the defaults beside the resources folder. */
export function resolvePaths(
  opts: { resources?: string; state?: string; reports?: string } = {},
  env: NodeJS.ProcessEnv = process.env,
  cwd: string = process.cwd(),
): Paths {
  const resourcesDir = resolve(cwd, opts.resources ?? env.AIFB_RESOURCES ?? 'resources');
  const stateDir = resolve(cwd, opts.state ?? env.AIFB_STATE ?? join(dirname(resourcesDir), '.aifb'));
  const reportsDir = resolve(cwd, opts.reports ?? env.AIFB_REPORTS ?? join(dirname(resourcesDir), 'reports'));
  return {
    resourcesDir,
    stateDir,
    reportsDir,
    resultsDb: join(stateDir, 'results.db'),
    controllerFile: join(stateDir, 'controller.json'),
    runsDir: join(stateDir, 'runs'),
    machinesDir: join(stateDir, 'machines'),
  };
}
