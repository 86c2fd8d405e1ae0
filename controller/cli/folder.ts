// Reads the resources folder the way the controller does, for the verbs that
// change it (apply, delete): a missing folder is simply an empty one.
import { scanFolder, type ParsedDoc } from '../store/parse.js';

export async function readFolder(resourcesDir: string): Promise<ParsedDoc[]> {
  try {
    return (await scanFolder(resourcesDir)).docs;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
}
