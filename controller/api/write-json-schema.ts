// Writes schema/aifb.schema.json from the zod schemas (the registered workload
// types included), so editors complete and check resource files. `npm run build` runs it.
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { RESOURCE_SCHEMAS } from './schemas.js';

export function jsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(z.union([RESOURCE_SCHEMAS.Service, RESOURCE_SCHEMAS.Benchmark, RESOURCE_SCHEMAS.MonitoringStack]), {
    io: 'input',
    unrepresentable: 'any',
  });
  return { ...schema, $id: 'https://aifb.io/schemas/v1alpha1/aifb.schema.json', title: 'aifb resource (aifb.io/v1alpha1)' };
}

export function jsonSchemaText(): string {
  return JSON.stringify(jsonSchema(), null, 2) + '\n';
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const out = new URL('../../../schema/aifb.schema.json', import.meta.url);
  mkdirSync(new URL('.', out), { recursive: true });
  writeFileSync(out, jsonSchemaText());
}
