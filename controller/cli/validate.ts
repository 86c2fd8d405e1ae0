// `aifbctl validate -f FILE...`: checks resource files the way the controller
// will, without applying them; exit 1 when any document is invalid.
import { readFile } from 'node:fs/promises';
import { parseResourceText } from '../store/parse.js';
import { errorMessage, type IO } from './context.js';
import { docLabel, duplicateLines, problemLines } from './problems.js';

export interface ValidateOptions {
  files: string[];
  /** Reads stdin for `-`; injected by tests. */
  readStdin?: () => Promise<string>;
}

export async function readInput(file: string, readStdin?: () => Promise<string>): Promise<string> {
  if (file === '-') {
    if (!readStdin) throw new Error('reading from stdin is not available here; pass a file path');
    return readStdin();
  }
  return readFile(file, 'utf8');
}

export async function runValidate(opts: ValidateOptions, io: IO): Promise<number> {
  if (opts.files.length === 0) {
    io.stderr('Error: no files given; use aifbctl validate -f FILE [-f FILE...]\n');
    return 1;
  }
  let failed = false;
  for (const file of opts.files) {
    let text: string;
    try {
      text = await readInput(file, opts.readStdin);
    } catch (e) {
      io.stderr(`${file}: cannot read: ${errorMessage(e)}\n`);
      failed = true;
      continue;
    }
    const docs = parseResourceText(text, file);
    if (docs.length === 0) {
      io.stderr(`${file}: no resources found; a resource needs apiVersion, kind, metadata and spec\n`);
      failed = true;
      continue;
    }
    for (const doc of docs) {
      if (doc.validation.ok) io.stdout(`${file}: ${docLabel(doc)} valid\n`);
      else {
        failed = true;
        for (const line of problemLines(file, doc)) io.stderr(line + '\n');
      }
    }
    const dups = duplicateLines(file, docs);
    if (dups.length) failed = true;
    for (const line of dups) io.stderr(line + '\n');
  }
  return failed ? 1 : 0;
}
