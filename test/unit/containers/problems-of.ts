// The problems a call throws as a ContainerSpecError; fails the test if it throws nothing else.
import { expect } from 'vitest';
import { ContainerSpecError } from '../../../containers/errors.js';

export function problemsOf(fn: () => unknown) {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ContainerSpecError);
    return (e as ContainerSpecError).problems;
  }
  throw new Error('expected a ContainerSpecError');
}
