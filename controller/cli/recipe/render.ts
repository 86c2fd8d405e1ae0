// The text of one imported file: a header saying where it came from, how the
// recipe was read and what was not carried over, then its resources as YAML.
import { stringify } from 'yaml';
import type { RecipeProblem } from './reader.js';

const WIDTH = 100;

/** Comment lines of at most WIDTH columns (a longer word stays whole); continuation lines indented under the first. */
function comment(text: string, first = '# ', rest = '#   '): string[] {
  const out: string[] = [];
  let prefix = first;
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && prefix.length + line.length + 1 + word.length > WIDTH) {
      out.push(prefix + line);
      prefix = rest;
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  out.push((prefix + line).trimEnd());
  return out;
}

export interface FileHeader {
  source: string;
  entryKey: string;
  serviceName?: string;
  /** As the user will type it: `imported/vllm.yaml`. */
  filePath: string;
  suite?: { name?: string; description?: string };
  notes: string[];
  warnings: RecipeProblem[];
}

export function renderFile(header: FileHeader, documents: object[]): string {
  const from = `${header.entryKey}${header.serviceName !== undefined ? `, service_name ${JSON.stringify(header.serviceName)}` : ''}`;
  const lines = [
    ...comment(`Imported by \`aifbctl import\` from ${header.source} (${from}).`),
    ...(header.suite?.name || header.suite?.description
      ? comment(`Suite: ${[header.suite.name, header.suite.description].filter(Boolean).join(': ')}`)
      : []),
    ...comment(`Check it with \`aifbctl validate -f ${header.filePath}\`, then start it with \`aifbctl apply -f ${header.filePath}\`.`),
  ];
  if (header.notes.length > 0) {
    lines.push('#', '# How the recipe was read:');
    for (const n of header.notes) lines.push(...comment(n, '#   - ', '#     '));
  }
  if (header.warnings.length > 0) {
    lines.push('#', '# Not carried over, or to check (aifbctl import printed these as warnings):');
    for (const w of header.warnings) lines.push(...comment(`${w.key}: ${w.message}`, '#   - ', '#     '));
  }
  const body = documents.map((d) => stringify(d, { lineWidth: 0 })).join('---\n');
  return `${lines.join('\n')}\n${body}`;
}
