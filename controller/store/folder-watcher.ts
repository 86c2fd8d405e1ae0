// Watches the resources folder itself (one inotify watch, fs.watch), not each
// file: an event names the entry that changed, and nothing re-reads the whole
// folder per event. chokidar did (a readdir and an lstat of every file per
// change), which made a thousand resources starting at once cost a million
// lstat calls. Events a file system does not deliver (NFS, Lustre from another
// node) are caught by the controller's periodic resync.
import { watch, type FSWatcher } from 'node:fs';

export interface FolderWatcher {
  close(): void;
}

/** Calls onChange with the name of the entry that changed, or undefined when the system could not say. */
export function watchFolder(dir: string, onChange: (name: string | undefined) => void, onError: (e: Error) => void): FolderWatcher {
  let watcher: FSWatcher | undefined = watch(dir, { persistent: false }, (_event, name) => onChange(name ?? undefined));
  watcher.on('error', (e) => {
    onError(e);
    watcher?.close();
    watcher = undefined;
  });
  return {
    close() {
      watcher?.close();
      watcher = undefined;
    },
  };
}
