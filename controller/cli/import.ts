// `aifbctl import RECIPE`: turns a recipe.yml of the Python predecessor into
// aifb resource files, one per service (its Service and Benchmark), for review.
import { mkdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import { convertRecipe, RecipeError, type ConvertResult, type RecipeProblem } from './recipe/convert.js';
import { errorMessage, type IO } from './context.js';
import { readFolder } from './folder.js';
import { refOf } from './kinds.js';

export interface ImportOptions {
  /** The recipe (the guide's section 5 format). */
  file: string;
  /** Where the files go; default `imported/` beside the recipe. */
  outDir?: string;
  /** The watched folder: checked for resources the import would define a second time. */
  resourcesDir: string;
  /** Print the files instead of writing them. */
  dryRun?: boolean;
  /** Replace files that exist already. */
  force?: boolean;
}

export const IMPORT_HELP = `
Reads a recipe.yml of the Python AI Factory Benchmarking Framework (its guide's
section 5: benchmark, global and services, with their SLURM settings and
operation mixes) and writes one aifb file per service: its Service and its
Benchmark. Anything that has no place in aifb is named on stderr as
"warning: <recipe key>: <what to do>" and listed in the file's header. Nothing
is applied: look at the files, then apply them.

Examples:
  # One file per service in imported/ beside the recipe; check one, then start it
  aifbctl import recipe.yml
  aifbctl validate -f imported/vllm-opt.yaml && aifbctl apply -f imported/vllm-opt.yaml

  # See what it would write, without writing anything
  aifbctl import recipe_comprehensive.yml --dry-run

  # Into another folder, replacing the files of an earlier import
  aifbctl import recipe.yml -o bench/ --force`;

const exists = (p: string) =>
  stat(p).then(
    () => true,
    () => false,
  );

const warningLine = (w: RecipeProblem) => `warning: ${w.key ? `${w.key}: ` : ''}${w.message}\n`;

function refsOf(documents: object[]): string {
  return documents.map((d) => refOf((d as { kind: string }).kind, (d as { metadata: { name: string } }).metadata.name)).join(', ');
}

/** Resources of the import that the watched folder already defines elsewhere: applying would define them twice. */
async function conflicts(result: ConvertResult, outDir: string, resourcesDir: string): Promise<RecipeProblem[]> {
  let existing;
  try {
    existing = await readFolder(resourcesDir);
  } catch (e) {
    return [{ key: '', message: `cannot read the resources folder ${resourcesDir} to look for names in use (${errorMessage(e)}); check them before applying` }];
  }
  const problems: RecipeProblem[] = [];
  for (const file of result.files) {
    const target = path.resolve(outDir, file.fileName);
    for (const doc of file.documents as Array<{ kind: string; metadata: { name: string } }>) {
      const other = existing.find((d) => d.kind === doc.kind && d.name === doc.metadata.name && path.resolve(d.file) !== target);
      if (!other) continue;
      problems.push({
        key: `${file.entryKey}.service_name`,
        message: `${refOf(doc.kind, doc.metadata.name)} is already defined in ${other.file}; applying ${file.fileName} would define it twice. Rename the service in the recipe, or delete that one first`,
      });
    }
  }
  return problems;
}

export async function runImport(opts: ImportOptions, io: IO): Promise<number> {
  let text: string;
  try {
    text = await readFile(opts.file, 'utf8');
  } catch (e) {
    io.stderr(`Error: cannot read the recipe ${opts.file}: ${errorMessage(e)}; check the path\n`);
    return 1;
  }

  const outDir = opts.outDir ?? path.join(path.dirname(opts.file), 'imported');
  let result: ConvertResult;
  try {
    result = convertRecipe(text, { source: path.basename(opts.file), baseDir: path.dirname(path.resolve(opts.file)), outDir });
  } catch (e) {
    if (!(e instanceof RecipeError)) throw e;
    for (const w of e.warnings) io.stderr(warningLine(w));
    for (const p of e.problems) io.stderr(`error: ${p.key ? `${p.key}: ` : ''}${p.message}\n`);
    io.stderr(`Error: ${opts.file} was not imported (nothing was written); fix the recipe keys named above and run aifbctl import again\n`);
    return 1;
  }

  const warnings = [...result.warnings, ...(await conflicts(result, outDir, opts.resourcesDir))];
  for (const w of warnings) io.stderr(warningLine(w));
  const services = result.files.filter((f) => f.serviceName !== undefined).length;
  const counts = `${result.files.length} service entr${result.files.length === 1 ? 'y' : 'ies'}: ${services} Service${services === 1 ? '' : 's'}, ${result.files.length} Benchmark${result.files.length === 1 ? '' : 's'}, ${warnings.length} warning${warnings.length === 1 ? '' : 's'}`;

  if (opts.dryRun) {
    // The YAML alone on stdout, so it can be piped or saved; what would go where, on stderr.
    io.stdout(result.files.map((f) => f.text).join('---\n'));
    for (const f of result.files) io.stderr(`would write ${path.join(outDir, f.fileName)}: ${refsOf(f.documents)}\n`);
    io.stderr(`Dry run of ${opts.file}: ${counts}; nothing was written\n`);
    return 0;
  }

  const targets = result.files.map((f) => ({ file: f, target: path.join(outDir, f.fileName) }));
  if (!opts.force) {
    const taken = [];
    for (const t of targets) if (await exists(t.target)) taken.push(t.target);
    if (taken.length > 0) {
      for (const t of taken) io.stderr(`error: ${t} exists already\n`);
      io.stderr(`Error: nothing was written; pass --force to replace ${taken.length === 1 ? 'it' : 'them'}, or -o DIR to import into another folder\n`);
      return 1;
    }
  }
  try {
    await mkdir(outDir, { recursive: true });
    for (const t of targets) await writeFileAtomic(t.target, t.file.text);
  } catch (e) {
    io.stderr(`Error: cannot write into ${outDir}: ${errorMessage(e)}\n`);
    return 1;
  }
  for (const t of targets) io.stdout(`${t.target}: ${refsOf(t.file.documents)}\n`);
  io.stdout(`Imported ${opts.file} into ${outDir}: ${counts}\n`);
  if (path.resolve(outDir) === path.resolve(opts.resourcesDir)) io.stdout('These files are in the watched folder: a running controller starts them now.\n');
  else {
    const first = targets[0].target;
    const read = warnings.length > 0 ? "read the warnings (each file's header lists its own), then " : '';
    io.stdout(`Next: ${read}aifbctl validate -f ${first}, then aifbctl apply -f ${first}; the same for each file\n`);
  }
  return 0;
}
