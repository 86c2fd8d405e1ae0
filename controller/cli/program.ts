// Builds the aifbctl command tree (commander): global options, one subcommand
// per verb, help with examples; main.ts runs it against the real process.
import { Command, InvalidArgumentError, Option } from 'commander';
import { parseDuration } from '../../api/units.js';
import { runApply } from './apply.js';
import { resolveGlobals, type GlobalOptions, type IO } from './context.js';
import { runDelete } from './delete.js';
import { runDescribe } from './describe.js';
import { OUTPUT_FORMATS, runGet, type OutputFormat } from './get.js';
import { runValidate } from './validate.js';
import { RUN_HELP, runForeground } from './run.js';
import { COMPARE_HELP, COMPARE_OUTPUT_FORMATS, runCompare, type CompareOutputFormat } from './compare.js';
import { LOGS_HELP, runLogs } from './logs.js';
import { REPORT_FORMATS, REPORT_HELP, runReport, type ReportOutputFormat } from './report.js';
import { RUNS_HELP, RUNS_OUTPUT_FORMATS, runRuns, type RunsOutputFormat } from './runs.js';
import { IMPORT_HELP, runImport } from './import.js';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function durationArg(value: string): number {
  try {
    const ms = parseDuration(value);
    if (ms <= 0) throw new Error('must be greater than 0');
    return ms;
  } catch (e) {
    throw new InvalidArgumentError(`${(e as Error).message} (e.g. --interval 2s)`);
  }
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

const EXAMPLES = `
Examples:
  # List benchmarks with their phase, request count, throughput and p99 latency
  aifbctl get benchmarks

  # Everything, with extra columns
  aifbctl get all -o wide

  # Follow a benchmark until it finishes (Ctrl-C stops)
  aifbctl get benchmarks vllm-load --watch

  # Conditions, results, reports and events of one benchmark
  aifbctl describe benchmark vllm-load

  # Check a file, then hand it to the controller
  aifbctl validate -f examples/vllm.yaml
  aifbctl apply -f examples/vllm.yaml

  # Remove it again
  aifbctl delete benchmark vllm-load

Resource types: benchmarks (bench), services (svc), monitoringstacks (ms).
The CLI asks the controller's status API and reads the files itself when no controller answers.`;

/** Commander calls process.exit on its own errors; verbs set process.exitCode instead. */
export function buildProgram(io: IO, setExitCode: (code: number) => void): Command {
  const program = new Command('aifbctl');
  program
    .description('Inspect and change aifb resources (Benchmark, Service, MonitoringStack): a kubectl-like CLI for the aifb controller')
    // Environment and fallbacks are resolved in context.ts, so tests and the CLI agree.
    .option('--resources <dir>', 'resources folder the controller watches (default: $AIFB_RESOURCES or ./resources)')
    .option('--state <dir>', 'controller state folder (default: $AIFB_STATE or <resources>/../.aifb)')
    .option('--server <url>', 'status API URL (default: $AIFB_SERVER, else the url in <state>/controller.json, else http://127.0.0.1:8484)')
    .option('--token-file <file>', "the status API's bearer token (default: $AIFB_TOKEN_FILE, $AIFB_TOKEN, else <state>/api-token when readable)")
    .option('--ca-file <file>', 'CA certificate (PEM) to trust for an HTTPS status API (default: $AIFB_CA_FILE)')
    .showHelpAfterError('(run aifbctl --help for usage)')
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .addHelpText('after', EXAMPLES);

  const globals = (cmd: Command) => resolveGlobals(cmd.optsWithGlobals<GlobalOptions>());

  program
    .command('get')
    .description('List resources as a table, or print them as JSON or YAML')
    .argument('<type>', 'benchmarks, services, monitoringstacks (or bench, svc, ms), or all')
    .argument('[name]', 'one resource by name')
    .addOption(new Option('-o, --output <format>', 'output format').choices(OUTPUT_FORMATS).default('table'))
    .option('-w, --watch', 'keep polling and print rows that changed (Ctrl-C stops)')
    .addOption(new Option('--interval <duration>', 'how often --watch polls').argParser(durationArg).default(2_000, '2s'))
    .addHelpText(
      'after',
      `
Examples:
  aifbctl get benchmarks                 # NAME  SERVICE  PHASE  REQS  RPS  P99  AGE
  aifbctl get bench vllm-load -o yaml    # one resource as YAML
  aifbctl get all -o wide                # every kind, more columns
  aifbctl get benchmarks -w --interval 5s`,
    )
    .action(async (type: string, name: string | undefined, o: { output: OutputFormat; watch?: boolean; interval: number }, cmd: Command) => {
      const ac = new AbortController();
      const onSigint = () => ac.abort();
      if (o.watch) process.once('SIGINT', onSigint);
      try {
        setExitCode(
          await runGet({ ...(await globals(cmd)), kind: type, name, output: o.output, watch: o.watch, intervalMs: o.interval, signal: ac.signal }, io),
        );
      } finally {
        process.off('SIGINT', onSigint);
      }
    });

  program
    .command('describe')
    .description('Show one resource in detail: spec summary, conditions, results, reports and events')
    .argument('<type>', 'benchmark, service or monitoringstack')
    .argument('<name>', 'resource name')
    .addHelpText('after', '\nExamples:\n  aifbctl describe benchmark vllm-load\n  aifbctl describe svc vllm')
    .action(async (type: string, name: string, _o: unknown, cmd: Command) => {
      setExitCode(await runDescribe({ ...(await globals(cmd)), kind: type, name }, io));
    });

  program
    .command('apply')
    .description('Validate a resource file and copy it into the resources folder (nothing is copied if any document is invalid)')
    .requiredOption('-f, --filename <file>', 'resource file (*.yaml or *.yml)')
    .addHelpText('after', '\nExamples:\n  aifbctl apply -f examples/vllm.yaml\n  aifbctl --resources /scratch/me/resources apply -f bench.yaml')
    .action(async (o: { filename: string }, cmd: Command) => {
      setExitCode(await runApply({ resourcesDir: (await globals(cmd)).resourcesDir, file: o.filename }, io));
    });

  program
    .command('delete')
    .description('Delete resources by removing their file from the resources folder (multi-document files must be edited by hand)')
    .argument('[type]', 'benchmark, service or monitoringstack')
    .argument('[names...]', 'resource names')
    .option('-f, --filename <file>', 'delete what this file defines (repeatable)', collect)
    .addHelpText('after', '\nExamples:\n  aifbctl delete benchmark vllm-load\n  aifbctl delete -f examples/vllm.yaml')
    .action(async (type: string | undefined, names: string[], o: { filename?: string[] }, cmd: Command) => {
      setExitCode(await runDelete({ resourcesDir: (await globals(cmd)).resourcesDir, kind: type, names, files: o.filename }, io));
    });

  program
    .command('validate')
    .description('Check resource files without applying them; exit 1 if any document is invalid')
    .argument('[files...]', 'resource files (same as -f)')
    .option('-f, --filename <file>', 'resource file, or - for stdin (repeatable)', collect)
    .addHelpText('after', '\nExamples:\n  aifbctl validate -f examples/vllm.yaml -f examples/postgres.yaml\n  cat bench.yaml | aifbctl validate -f -')
    .action(async (files: string[], o: { filename?: string[] }) => {
      setExitCode(await runValidate({ files: [...(o.filename ?? []), ...files], readStdin }, io));
    });

  program
    .command('run')
    .description('Run one benchmark in the foreground, without a controller: its service is used or started, progress shown, results and reports written')
    .requiredOption('-f, --filename <file>', 'resource file with the Benchmark (and its Service, unless inline or an endpoint)')
    .option('--name <name>', 'which Benchmark, when the file holds several')
    .addHelpText('after', RUN_HELP)
    .action(async (o: { filename: string; name?: string }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const listeners = new Set<() => void>();
      const onSigint = () => listeners.forEach((l) => l());
      process.on('SIGINT', onSigint);
      try {
        setExitCode(
          await runForeground(
            {
              file: o.filename,
              name: o.name,
              resources: g.resources,
              state: g.state,
              tty: process.stderr.isTTY === true,
              interrupts: { on: (l) => listeners.add(l), off: (l) => listeners.delete(l) },
            },
            io,
          ),
        );
      } finally {
        process.off('SIGINT', onSigint);
      }
    });

  program
    .command('runs')
    .description("List a benchmark's runs from <state>/results.db, newest first")
    .argument('<name>', 'benchmark name')
    .addOption(new Option('-o, --output <format>', 'output format').choices(RUNS_OUTPUT_FORMATS).default('table'))
    .addHelpText('after', RUNS_HELP)
    .action(async (name: string, o: { output: RunsOutputFormat }, cmd: Command) => {
      setExitCode(await runRuns({ ...(await globals(cmd)), name, output: o.output }, io));
    });

  program
    .command('report')
    .description("Print the report of a benchmark's latest run (or --run ID) in any format")
    .argument('<name>', 'benchmark name')
    .option('--run <id>', 'a run id of this benchmark (see aifbctl runs NAME)')
    .addOption(new Option('-o, --output <format>', 'report format').choices(REPORT_FORMATS).default('md'))
    .addHelpText('after', REPORT_HELP)
    .action(async (name: string, o: { run?: string; output: ReportOutputFormat }, cmd: Command) => {
      setExitCode(await runReport({ ...(await globals(cmd)), name, run: o.run, output: o.output }, io));
    });

  program
    .command('logs')
    .description("Print the runner's stdout and stderr of a benchmark's latest run, or its service's log")
    .argument('<name>', 'benchmark name')
    .option('--run <id>', 'a run id of this benchmark (failed runs included)')
    .option('--service', "the log of the benchmark's service launch instead")
    .option('--tail <lines>', 'only the last lines of each log file', wholeNumber('--tail', 0))
    .addHelpText('after', LOGS_HELP)
    .action(async (name: string, o: { run?: string; service?: boolean; tail?: number }, cmd: Command) => {
      setExitCode(await runLogs({ ...(await globals(cmd)), name, run: o.run, service: o.service, tail: o.tail }, io));
    });

  program
    .command('compare')
    .description('Compare two runs: deltas per operation and metric, bootstrap intervals and verdicts for p50 and p99')
    .argument('<runA>', 'run id, NAME (its latest run) or NAME~N (N runs before it)')
    .argument('<runB>', 'run id, NAME or NAME~N: compared against runA')
    .addOption(new Option('-o, --output <format>', 'output format').choices(COMPARE_OUTPUT_FORMATS).default('table'))
    .option('--resamples <n>', 'bootstrap resamples', wholeNumber('--resamples', 100), 1000)
    .option('--seed <n>', 'bootstrap seed (the same seed gives the same intervals)', wholeNumber('--seed', 0), 1)
    .addHelpText('after', COMPARE_HELP)
    .action(async (runA: string, runB: string, o: { output: CompareOutputFormat; resamples: number; seed: number }, cmd: Command) => {
      setExitCode(await runCompare({ ...(await globals(cmd)), runA, runB, output: o.output, resamples: o.resamples, seed: o.seed }, io));
    });

  program
    .command('import')
    .description('Convert a recipe.yml of the Python AI Factory Benchmarking Framework into aifb resource files, one per service, to review and then apply')
    .argument('<recipe>', "recipe file (the guide's section 5 format)")
    .option('-o, --out <dir>', 'folder to write the files into (default: imported/ beside the recipe)')
    .option('--dry-run', 'print the resources on stdout instead of writing them')
    .option('--force', 'replace files that exist already')
    .addHelpText('after', IMPORT_HELP)
    .action(async (recipe: string, o: { out?: string; dryRun?: boolean; force?: boolean }, cmd: Command) => {
      setExitCode(await runImport({ file: recipe, outDir: o.out, resourcesDir: (await globals(cmd)).resourcesDir, dryRun: o.dryRun, force: o.force }, io));
    });

  return program;
}

/** A whole number of at least `min`, for --tail, --resamples and --seed. */
function wholeNumber(flag: string, min: number): (value: string) => number {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${flag} takes a whole number of at least ${min} (got "${value}")`);
    return n;
  };
}
