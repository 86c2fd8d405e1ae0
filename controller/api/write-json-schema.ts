// Writes schema/aifb.schema.json from the zod schemas, so editors complete and
// check resource files. Run by `npm run schema`; a test fails if it is stale.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { BenchmarkResource, MonitoringStackResource, ServiceResource } from '../../api/schemas.js';

export function jsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(z.union([ServiceResource, BenchmarkResource, MonitoringStackResource]), {
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
  writeFileSync(out, jsonSchemaText());
  console.log(`Wrote ${fileURLToPath(out)}`);
}
