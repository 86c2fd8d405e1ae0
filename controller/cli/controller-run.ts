// PLACEHOLDER owned by the lead: registers `aifbctl controller run`. This stub
// only keeps main.ts compiling until the real controller wiring replaces it.
import type { Command } from 'commander';

export function registerControllerCommands(program: Command): void {
  program
    .command('controller')
    .description('Run the aifb controller')
    .command('run')
    .description('Run the controller in the foreground')
    .action(() => {
      process.stderr.write('not implemented\n');
      process.exitCode = 1;
    });
}
