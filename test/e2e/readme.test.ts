// The README's commands are the product's front door: CI runs the test
// command, and this runs the quickstart as a new user would, in a fresh folder.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { WORKLOADS } from '../../clients/registry.js';
import type { WorkloadDefinition } from '../../clients/workload.js';
import { ROOT } from './harness.js';

const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
/** The indented command lines right after the README's opening two bold lines. */
const commands = [...readme.matchAll(/\*\*Run [^*]+\*\*[^\n]*\n(?:[^\n]*\n)*?\n {4}(\S[^\n]*)\n/g)].map((m) => m[1]);

/** The README's row for a workload type, built from its definition so the table cannot drift. */
function workloadRow(w: WorkloadDefinition): string {
  const code = (x: string) => `\`${x}\``;
  const settings = Object.keys((w.schema as unknown as { shape: Record<string, unknown> }).shape).filter((k) => k !== 'type');
  const services = `${w.needsService ? '' : 'no Service needed; '}${w.services.map(code).join(', ')}`;
  const metrics = w.metrics.map((m) => `${code(m.name)} (${m.unit})`).join(', ');
  return `| ${code(w.type)} | ${w.summary} | ${settings.map(code).join(', ')} | ${services} | ${metrics} | ${code(`examples/${w.example}`)} |`;
}

describe('README', () => {
  it('has one row per registered workload type in its table, as the registry defines it', () => {
    const rows = readme.split('\n').filter((l) => /^\| `[a-z0-9-]+` \| /.test(l) && l.includes('examples/'));
    expect(rows).toEqual(WORKLOADS.map((w) => workloadRow(w)));
  });

  it('opens with the two commands, and CI runs the test command', () => {
    expect(commands).toEqual(['npm ci && npm run quickstart', 'bash scripts/test-all.sh']);
    expect(readFileSync(join(ROOT, '.ci/run'), 'utf8')).toContain(`\n${commands[1]}\n`);
    const scripts = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts;
    expect(scripts.quickstart).toContain('quickstart.js');
  });

  it('quickstart runs the example to Succeeded and prints the table and the report paths', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'aifb-quickstart-'));
    const { stdout } = await promisify(execFile)(process.execPath, [join(ROOT, 'dist/controller/cli/quickstart.js')], { cwd, timeout: 60_000 });
    expect(stdout).toMatch(/quickstart: Succeeded/);
    expect(stdout).toMatch(/NAME\s+SERVICE\s+PHASE\s+REQS\s+RPS\s+P99\s+AGE\nquickstart\s+file-storage\s+Succeeded\s+\d+/);
    const json = /json\s+(\S+-report\.json)/.exec(stdout)?.[1];
    expect(json && existsSync(json)).toBe(true);
    expect(json!.startsWith(join(cwd, 'reports'))).toBe(true);
    expect(readFileSync(join(cwd, 'resources/quickstart.yaml'), 'utf8')).toMatch(/\nstatus:\n {2}phase: Succeeded\n/);
    // What the run left behind is for the user and their group only; the token is the user's alone.
    const entries = ['.aifb', 'reports', 'resources'].flatMap((top) =>
      [join(cwd, top), ...readdirSync(join(cwd, top), { recursive: true }).map((p) => join(cwd, top, String(p)))],
    );
    expect(entries.length).toBeGreaterThan(10);
    const open = entries.filter((p) => (statSync(p).mode & 0o007) !== 0).map((p) => `${p} ${(statSync(p).mode & 0o777).toString(8)}`);
    expect(open).toEqual([]);
    expect(statSync(join(cwd, '.aifb', 'api-token')).mode & 0o777).toBe(0o600);
  }, 90_000);
});
