// The one error type the store throws: a resource file it must not or cannot
// touch. The message names the file and says what the user can do about it.
export class StoreError extends Error {
  constructor(
    message: string,
    readonly file: string,
  ) {
    super(message);
    this.name = 'StoreError';
  }
}
