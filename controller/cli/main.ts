#!/usr/bin/env node
// aifbctl entry point (bin `dist/controller/cli/main.js`): builds the command tree
// and runs it on the real process; every verb lives in its own module.
import { buildProgram } from './program.js';
// >>> Lead: `controller run` is registered here; controller-run.ts is yours to replace.
import { registerControllerCommands } from './controller-run.js';

const program = buildProgram(
  { stdout: (s) => process.stdout.write(s), stderr: (s) => process.stderr.write(s) },
  (code) => {
    process.exitCode = code;
  },
);
// >>> Lead: controller commands.
registerControllerCommands(program);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  process.stderr.write(`Error: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
}
