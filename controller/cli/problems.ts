// How apply and validate name a document and its problems on stderr:
// `FILE: Kind/name: spec.load.duration: message`, one line per problem.
import type { ParsedDoc } from '../store/parse.js';

/** `Benchmark/vllm-load`, or what is known of a document too broken to have both. */
export function docLabel(doc: ParsedDoc): string {
  if (doc.kind !== undefined && doc.name !== undefined) return `${doc.kind}/${doc.name}`;
  if (doc.kind !== undefined) return `${doc.kind}/<no metadata.name>`;
  if (doc.name !== undefined) return `<no kind>/${doc.name}`;
  return `document ${doc.index + 1}`;
}

export function problemLines(file: string, doc: ParsedDoc): string[] {
  if (doc.validation.ok) return [];
  return doc.validation.problems.map((p) => `${file}: ${docLabel(doc)}: ${p.path ? `${p.path}: ` : ''}${p.message}`);
}

/** Documents in one file that reuse a kind/name; the controller would ignore all but the first. */
export function duplicateLines(file: string, docs: ParsedDoc[]): string[] {
  const seen = new Map<string, ParsedDoc>();
  const lines: string[] = [];
  for (const doc of docs) {
    if (!doc.key) continue;
    const first = seen.get(doc.key);
    if (first) {
      lines.push(`${file}: ${doc.key}: metadata.name: already defined by document ${first.index + 1} of this file; rename one of them`);
    } else seen.set(doc.key, doc);
  }
  return lines;
}
