import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import {
  shellQuote,
  validateAccount,
  validateConstraint,
  validateGres,
  validateJobName,
  validateMem,
  validatePartition,
  validateQos,
  validateTime,
} from '../../../slurm/quote.js';

// What bash makes of `printf '%s' <quoted>`: the bytes it would pass on.
const throughBash = (quoted: string): string => execFileSync('bash', ['-c', `printf '%s' ${quoted}`], { encoding: 'utf8' });

describe('shellQuote', () => {
  it('leaves plain words bare so scripts stay readable', () => {
    expect(shellQuote('gpu')).toBe('gpu');
    expect(shellQuote('/scratch/run-1/out.log')).toBe('/scratch/run-1/out.log');
    expect(shellQuote('--port=8000')).toBe('--port=8000');
  });

  it('single-quotes anything else, including the empty string', () => {
    expect(shellQuote('')).toBe("''");
    expect(shellQuote('a b')).toBe("'a b'");
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
  });

  it.each([
    '$(touch /tmp/pwned)',
    '`id`',
    "it's",
    'say "hi"',
    'a\nb',
    'x; rm -rf /',
    'a && b',
    'a | b',
    '*',
    '~root',
    '$HOME ${PATH} $1',
    '\\n\\t\\',
    "''''",
    '!event',
    '',
    '-n',
  ])('bash reads %j back verbatim', (value) => {
    expect(throughBash(shellQuote(value))).toBe(value);
  });
});

describe('validators', () => {
  it('accept the values SLURM documents', () => {
    expect(validatePartition('gpu')).toBeUndefined();
    expect(validatePartition('gpu,gpu-long')).toBeUndefined();
    expect(validateAccount('p200123')).toBeUndefined();
    expect(validateQos('default')).toBeUndefined();
    expect(validateConstraint('a100&ib')).toBeUndefined();
    expect(validateConstraint('[rack1|rack2]')).toBeUndefined();
    for (const t of ['30', '30:00', '02:00:00', '1-12', '1-12:00', '1-12:00:00', 'UNLIMITED', 'infinite']) expect(validateTime(t)).toBeUndefined();
    for (const m of ['4G', '4000M', '4000', '512k', '1T']) expect(validateMem(m)).toBeUndefined();
    for (const g of ['gpu', 'gpu:1', 'gpu:a100:2', 'gpu:a100-sxm4-40gb:4', 'gpu:1,nvme:1']) expect(validateGres(g)).toBeUndefined();
    expect(validateJobName('aifb-benchmark-vllm-load')).toBeUndefined();
  });

  it.each([
    ['gpu\n#SBATCH --wrap=x', 'line break'],
    ['$(touch /tmp/pwned)', '"$("'],
    ['`id`', 'backtick'],
    ['gpu;id', '";"'],
    ["gpu'", `"'"`],
    ['gpu "x"', 'whitespace'],
    ['gpu&&id', '"&"'],
    ['', 'empty'],
  ])('reject partition %j, saying it %s, naming the field and the fix', (value, why) => {
    const p = validatePartition(value);
    expect(p?.path).toBe('spec.slurm.partition');
    expect(p?.message).toContain(why);
    expect(p?.message).toMatch(/sinfo -s/);
  });

  it('use the caller-given path, e.g. the runner block', () => {
    expect(validateAccount('a b', 'spec.runner.slurm.account')?.path).toBe('spec.runner.slurm.account');
  });

  it('reject malformed times, sizes, gres, names with a suggestion', () => {
    expect(validateTime('2h')?.message).toMatch(/HH:MM:SS/);
    expect(validateTime('1:00:00;id')?.path).toBe('spec.slurm.time');
    expect(validateMem('4GB')?.message).toContain('"4G"');
    expect(validateMem('4 G')?.path).toBe('spec.slurm.mem');
    expect(validateGres('gpu:1 --wrap=id')?.message).toContain('gpu:a100:2');
    expect(validateGres('gpu:$(id)')).toBeDefined();
    expect(validateQos('normal`id`')?.message).toContain('backtick');
    expect(validateConstraint('a100 && ib')?.message).toContain('whitespace');
    expect(validateJobName('-x')).toBeDefined();
    expect(validateJobName('aifb-x\nid')).toBeDefined();
  });
});
