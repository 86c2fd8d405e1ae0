// Errors from the containers layer: bad container settings in a spec (each
// problem names its field) and failed Apptainer commands (with a hint).
import { describeProblems, type FieldProblem } from '../api/problems.js';

/** A spec value that cannot become an Apptainer command line; retrying will not fix it. */
export class ContainerSpecError extends Error {
  constructor(readonly problems: FieldProblem[]) {
    super(describeProblems(problems));
    this.name = 'ContainerSpecError';
  }
}

/** Throws one error carrying every problem, so the user fixes them all in one edit. */
export function throwIfProblems(problems: FieldProblem[]): void {
  if (problems.length > 0) throw new ContainerSpecError(problems);
}

/** An Apptainer command that failed to start or exited non-zero. */
export class ApptainerError extends Error {
  constructor(
    message: string,
    readonly argv: string[],
    readonly exitCode: number | undefined,
    readonly stderr: string,
  ) {
    super(message);
    this.name = 'ApptainerError';
  }
}

export const APPTAINER_MISSING_HINT =
  'on MeluXina run `module load Apptainer` first (or `module add Apptainer` in the job script); elsewhere install Apptainer 1.1 or newer';
