import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveSecret, resolveSecretEnv } from '../../../clients/secrets.js';

describe('resolveSecret', () => {
  const dir = mkdtempSync(join(tmpdir(), 'aifb-secrets-'));

  it('reads a variable, or the first line of a file', () => {
    writeFileSync(join(dir, 'pw'), 's3cret\nignored\n');
    expect(resolveSecret({ env: 'X' }, 'f', { X: 'v' })).toBe('v');
    expect(resolveSecret({ file: join(dir, 'pw') }, 'f')).toBe('s3cret');
    expect(resolveSecretEnv({ A: { env: 'X' } }, 'spec', { X: 'v' })).toEqual({ A: 'v' });
  });

  it('names the field and the reference, never a value, and says how to fix it', () => {
    expect(() => resolveSecret({ env: 'NOPE' }, 'service.credentials.token', {})).toThrow(
      /^service\.credentials\.token: environment variable NOPE is not set where this runs .*; export it before starting the controller, or use \{file: \/path\} instead$/,
    );
    expect(() => resolveSecret({ file: join(dir, 'missing') }, 'f')).toThrow(/^f: cannot read file .*missing \(ENOENT\); make it readable/);
    writeFileSync(join(dir, 'empty'), '\n');
    expect(() => resolveSecret({ file: join(dir, 'empty') }, 'f')).toThrow(/is empty; write the secret on its first line/);
  });
});
