// `aifbctl apply -f FILE`: validates a resource file and, only if every document
// is valid, copies it atomically into the resources folder for the controller.
import { mkdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import { isResourceFileName, parseResourceText } from '../store/parse.js';
import { errorMessage, type IO } from './context.js';
import { readFolder } from './folder.js';
import { refOf } from './kinds.js';
import { duplicateLines, problemLines } from './problems.js';

export interface ApplyOptions {
  resourcesDir: string;
  file: string;
}

const exists = (p: string) =>
  stat(p).then(
    () => true,
    () => false,
  );

export async function runApply(opts: ApplyOptions, io: IO): Promise<number> {
  const { file, resourcesDir } = opts;
  if (file === '-') {
    io.stderr('Error: apply copies a file and keeps its name, so it needs a path; save stdin to NAME.yaml and run aifbctl apply -f NAME.yaml\n');
    return 1;
  }
  const base = path.basename(file);
  if (!isResourceFileName(base)) {
    io.stderr(`Error: ${file}: the controller only reads files named *.yaml or *.yml (not hidden, not temporary); rename it\n`);
    return 1;
  }
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    io.stderr(`Error: cannot read ${file}: ${errorMessage(e)}\n`);
    return 1;
  }

  const docs = parseResourceText(text, file);
  if (docs.length === 0) {
    io.stderr(`Error: ${file} holds no resources; a resource needs apiVersion, kind, metadata and spec\n`);
    return 1;
  }
  const problems = [...docs.flatMap((d) => problemLines(file, d)), ...duplicateLines(file, docs)];
  if (problems.length) {
    for (const line of problems) io.stderr(line + '\n');
    io.stderr(`Error: ${file} was not applied; fix the problems above (aifbctl validate -f ${file} checks again)\n`);
    return 1;
  }

  const target = path.join(resourcesDir, base);
  let folderDocs;
  try {
    folderDocs = await readFolder(resourcesDir);
  } catch (e) {
    io.stderr(`Error: cannot read the resources folder ${resourcesDir}: ${errorMessage(e)}\n`);
    return 1;
  }
  const keys = new Set(docs.map((d) => d.key));
  const resolvedTarget = path.resolve(target);
  // Two files defining one resource would leave the controller to pick one; refuse instead.
  const conflicts = folderDocs.filter((d) => d.key && keys.has(d.key) && path.resolve(d.file) !== resolvedTarget);
  if (conflicts.length) {
    for (const c of conflicts) {
      io.stderr(
        `Error: ${refOf(c.kind!, c.name!)} is already defined in ${c.file} (document ${c.index + 1}); ` +
          `delete it there first (aifbctl delete ${c.kind!.toLowerCase()} ${c.name}) or change metadata.name in ${file}\n`,
      );
    }
    return 1;
  }
  const previous = new Set(folderDocs.filter((d) => path.resolve(d.file) === resolvedTarget).map((d) => d.key));
  const existed = await exists(target);

  if (path.resolve(file) !== resolvedTarget) {
    // write-file-atomic writes `<name>.yaml.<n>` beside it (a name the store ignores)
    // and renames: the watcher never sees a half-written file.
    try {
      await mkdir(resourcesDir, { recursive: true });
      await writeFileAtomic(target, text);
    } catch (e) {
      io.stderr(`Error: cannot write ${target}: ${errorMessage(e)}\n`);
      return 1;
    }
  }
  for (const d of docs) {
    io.stdout(`${refOf(d.kind!, d.name!)} ${existed && previous.has(d.key) ? 'configured' : 'created'}\n`);
  }
  return 0;
}
