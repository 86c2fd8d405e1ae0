// Prints the catalog's images as containers/images.txt holds them, so pull.sh and
// the catalog share one list: `node dist/containers/catalog-list.js > containers/images.txt`.
import { fileURLToPath } from 'node:url';
import { catalogImageLines } from './catalog.js';

export const IMAGES_HEADER = [
  '# Images containers/pull.sh pulls: <sif-name> <reference> [other types served by it]',
  '# Generated from containers/catalog.ts by `node dist/containers/catalog-list.js`; a test checks they agree.',
];

export function imagesFileText(): string {
  return [...IMAGES_HEADER, ...catalogImageLines()].join('\n') + '\n';
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.stdout.write(imagesFileText());
}
