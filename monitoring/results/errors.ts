// The one error type of the results layer: a run folder or results database
// that cannot be read, with the file at fault and what the user can do about it.

export class ResultsError extends Error {
  override readonly name = 'ResultsError';
  /** The file (or folder) at fault, absolute when known. */
  readonly file?: string;

  constructor(message: string, options: { file?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.file = options.file;
  }
}
