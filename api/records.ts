// The one check for "a JSON object" (not null, not an array) that readers of
// loosely typed documents share: resource files, their views, server answers.

export const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
