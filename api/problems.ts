// Field problems: what is wrong with a user's input, at which path, and how to
// fix it. Every layer reports bad input in this one shape.
import type { z } from 'zod';

export interface FieldProblem {
  /** Dotted path into the document, e.g. `spec.load.duration`; empty for the document itself. */
  path: string;
  message: string;
}

export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  return path
    .map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`))
    .join('');
}

function issueMessage(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') {
    return `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}; remove it or check the spelling`;
  }
  return issue.message;
}

export function problemsFromZod(error: z.ZodError, prefix: ReadonlyArray<PropertyKey> = []): FieldProblem[] {
  return error.issues.map((issue) => ({ path: formatPath([...prefix, ...issue.path]), message: issueMessage(issue) }));
}

export function describeProblems(problems: FieldProblem[]): string {
  return problems.map((p) => (p.path ? `${p.path}: ${p.message}` : p.message)).join('; ');
}
