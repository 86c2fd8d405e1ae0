// Field types every resource shares: durations and sizes as users write them
// (`30s`, `10MB`), names, metadata and weights. Durations and sizes are zod
// codecs, so a parsed value encodes back to text that parses to the same value:
// the controller hands the runner its spec that way, checked by the same schemas.
import { z } from 'zod';
import { parseDuration, parseSize } from './units.js';

function unitCodec(parse: (v: string | number) => number, encode: (n: number) => string | number, input: z.ZodType<string | number>) {
  return z.codec(input, z.number().nonnegative(), {
    decode: (v, ctx) => {
      try {
        return parse(v);
      } catch (e) {
        ctx.issues.push({ code: 'custom', message: (e as Error).message, input: v });
        return z.NEVER;
      }
    },
    encode,
  });
}

/** `30s`, `5m`, or a number of seconds; parsed to milliseconds, encoded back as `<ms>ms`. */
export const Duration = unitCodec(parseDuration, (ms) => `${ms}ms`, z.union([z.number().nonnegative(), z.string()]));

/** `10MB`, `4KiB`, or a number of bytes; parsed to bytes, encoded back as the number. */
export const Size = unitCodec(parseSize, (bytes) => bytes, z.union([z.number().int().nonnegative(), z.string()]));

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
export const Name = z
  .string()
  .max(63, 'must be at most 63 characters')
  .regex(DNS_LABEL, 'must be a DNS label: lowercase letters, digits and "-", starting and ending with a letter or digit');

export const Metadata = z.strictObject({
  name: Name,
  labels: z.record(z.string(), z.string()).optional(),
  annotations: z.record(z.string(), z.string()).optional(),
});

/** Weights that need not sum to 1: they are normalised. */
export const Weights = z
  .record(z.string(), z.number().nonnegative())
  .refine((w) => Object.values(w).some((x) => x > 0), 'at least one weight must be greater than 0');

export type Duration = z.output<typeof Duration>;
