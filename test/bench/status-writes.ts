// Benchmark (not a test): status writes into resource files (issue 13, row 7).
// How many status updates per second the file store sustains with its
// re-read-before-rename check, against the same splice written by
// write-file-atomic without the check (the peer: what the check costs); then
// the store's writes while another process edits the specs of the same files
// as fast as it can, and how many of that process's edits are missing
// afterwards (must be 0). The editor saves two ways, as editors do: a new file
// renamed over the old one (vim's and most editors' default), and in place
// (truncate and write, as `>` or an editor set to keep the inode).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import { FileStore } from '../../controller/store/file-store.js';
import { spliceStatus } from '../../controller/store/splice.js';

export interface StatusWriteOptions {
  /** Files written in turn; few, so the editor and the store meet on the same files often. */
  files: number;
  /** Status writes in flight at once, one file each (the controller's reconcile workers). */
  writers: number;
  seconds: number;
}

export const DEFAULTS: StatusWriteOptions = { files: 8, writers: 4, seconds: 5 };

export type Mode = 'alone' | 'plain' | 'rename' | 'in-place';

export interface StatusWriteRow {
  mode: Mode;
  /** Status updates that reached the file, per second. */
  writesPerS: number;
  /** Writes that found the file changed under them and started over (re-read check fired). */
  retried: number;
  /** Writes not made: given up (the file changed 5 times during one write), refused (it did not parse mid-save) or gone (found empty mid-save). */
  failed: number;
  /** The other process's edits, and how many of them are not in the files afterwards. */
  edits: number;
  lostEdits: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function serviceYaml(name: string): string {
  return `apiVersion: aifb.io/v1alpha1
kind: Service
metadata:
  name: ${name}
spec:
  type: http
  endpoint:
    host: 127.0.0.1
    port: 8080
  args:
    - start
`;
}

/**
 * The other process: edits the spec of each file in turn by adding a line
 * `    - edit-N` under `args:`, reading the file just before, as a person with
 * an editor open would save; prints how many edits it made per file.
 */
const EDITOR = `
const fs = require('node:fs');
const [dir, n, seconds, mode] = [process.argv[1], Number(process.argv[2]), Number(process.argv[3]), process.argv[4]];
const made = new Array(n).fill(0);
const end = Date.now() + seconds * 1000;
let i = 0;
while (Date.now() < end) {
  const f = i % n, file = dir + '/svc-' + f + '.yaml';
  i++;
  const text = fs.readFileSync(file, 'utf8');
  const at = text.indexOf('  args:\\n');
  if (at < 0) throw new Error('no args: in ' + file + ':\\n' + text);
  const cut = at + '  args:\\n'.length;
  const next = text.slice(0, cut) + '    - edit-' + f + '-' + made[f] + '\\n' + text.slice(cut);
  if (mode === 'rename') {
    const tmp = dir + '/.svc-' + f + '.yaml.swp';
    fs.writeFileSync(tmp, next);
    fs.renameSync(tmp, file);
  } else {
    fs.writeFileSync(file, next);
  }
  made[f]++;
}
console.log(JSON.stringify(made));
`;

/** One mode: writers loop over their files until `seconds` pass, the editor (if any) running beside them. */
export async function measureMode(mode: Mode, o: StatusWriteOptions = DEFAULTS): Promise<StatusWriteRow> {
  if (o.files < o.writers) throw new Error('give at least as many files as writers');
  const dir = mkdtempSync(join(tmpdir(), 'aifb-bench-status-'));
  try {
    const names = Array.from({ length: o.files }, (_, i) => `svc-${i}`);
    for (const name of names) writeFileSync(join(dir, `${name}.yaml`), serviceYaml(name));
    let retried = 0;
    const store = new FileStore({ resourcesDir: dir, beforeRename: async (attempt) => void (attempt > 1 && retried++) });
    let written = 0;
    let failed = 0;
    let seq = 0;
    const end = performance.now() + o.seconds * 1000;
    const editor =
      mode === 'rename' || mode === 'in-place'
        ? spawn(process.execPath, ['-e', EDITOR, dir, String(o.files), String(o.seconds), mode], { stdio: ['ignore', 'pipe', 'pipe'] })
        : undefined;
    let editorOut = '';
    let editorErr = '';
    editor?.stdout!.on('data', (d) => (editorOut += d));
    editor?.stderr!.on('data', (d) => (editorErr += d));
    const editorDone = editor && new Promise<number | null>((r) => editor.once('exit', r));
    const began = performance.now();
    const writer = async (w: number) => {
      // Each writer owns every writers-th file, as one reconcile worker holds one resource at a time.
      const mine = names.map((_, i) => i).filter((i) => i % o.writers === w);
      for (let k = 0; performance.now() < end; k++) {
        const i = mine[k % mine.length];
        const file = join(dir, `${names[i]}.yaml`);
        // A new status each time (as progress updates are), so no write is skipped as unchanged.
        const status = { phase: 'Ready', observedGeneration: 1, message: `update ${++seq}` };
        if (mode === 'plain') {
          const text = await readFile(file, 'utf8');
          const spliced = spliceStatus(text, file, { kind: 'Service', name: names[i], index: 0 }, status);
          if (!spliced.found) throw new Error(`${names[i]} not found`);
          await writeFileAtomic(file, spliced.text);
          written++;
          continue;
        }
        try {
          const outcome = await store.writeStatus({ file, index: 0, kind: 'Service', name: names[i] }, status);
          if (outcome === 'written') written++;
          else failed++;
        } catch {
          // Gave up after 5 changes in a row, or the file did not parse mid-save: the controller retries later.
          failed++;
        }
      }
    };
    await Promise.all(Array.from({ length: o.writers }, (_, w) => writer(w)));
    const elapsed = (performance.now() - began) / 1000;
    let edits = 0;
    let lostEdits = 0;
    if (editor) {
      const code = await editorDone;
      if (code !== 0) throw new Error(`the editor process failed (${code}): ${editorErr}`);
      const made = JSON.parse(editorOut) as number[];
      for (let f = 0; f < o.files; f++) {
        const text = readFileSync(join(dir, `svc-${f}.yaml`), 'utf8');
        for (let e = 0; e < made[f]; e++) {
          edits++;
          if (!text.includes(`    - edit-${f}-${e}\n`)) lostEdits++;
        }
      }
    }
    return { mode, writesPerS: written / elapsed, retried, failed, edits, lostEdits };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function measureStatusWrites(o: StatusWriteOptions = DEFAULTS): Promise<StatusWriteRow[]> {
  const rows: StatusWriteRow[] = [];
  for (const mode of ['alone', 'plain', 'rename', 'in-place'] as Mode[]) {
    rows.push(await measureMode(mode, o));
    await sleep(200);
  }
  return rows;
}

const LABEL: Record<Mode, string> = {
  alone: 'store (re-read check), alone',
  plain: 'write-file-atomic, no check',
  rename: 'store, editor saves by rename',
  'in-place': 'store, editor saves in place',
};

export function table(rows: StatusWriteRow[]): string[] {
  const out = ['WRITER                          WRITES/S  RETRIED  FAILED  EDITS  LOST_EDITS'];
  for (const r of rows) {
    const editsCol = r.mode === 'alone' || r.mode === 'plain' ? '    -           -' : `${String(r.edits).padStart(5)}  ${String(r.lostEdits).padStart(10)}`;
    out.push(`${LABEL[r.mode].padEnd(30)}  ${r.writesPerS.toFixed(0).padStart(8)}  ${String(r.retried).padStart(7)}  ${String(r.failed).padStart(6)}  ${editsCol}`);
  }
  const by = (m: Mode) => rows.find((r) => r.mode === m);
  const [alone, plain] = [by('alone'), by('plain')];
  if (alone && plain) out.push(`ratio store/write-file-atomic: status writes per second x${(alone.writesPerS / plain.writesPerS).toFixed(2)} (1.00 = the check costs nothing)`);
  const edited = rows.filter((r) => r.edits > 0);
  if (edited.length > 0) out.push(`lost edits: ${edited.reduce((a, r) => a + r.lostEdits, 0)} of ${edited.reduce((a, r) => a + r.edits, 0)} (goal 0)`);
  return out;
}

export async function main(o: StatusWriteOptions = DEFAULTS): Promise<void> {
  console.log(`status writes: ${o.files} resource files, ${o.writers} status writes in flight, ${o.seconds} s a mode; the editor is another process editing the same files' specs`);
  console.log(`machine: ${cpus().length} cores, Node ${process.version}; ${tmpdir()} on the machine's disk (each write's temp file is fsynced before its rename)`);
  for (const line of table(await measureStatusWrites(o))) console.log(line);
}
