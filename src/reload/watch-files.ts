import { watch, type FSWatcher } from "node:fs";
import { basename, dirname } from "node:path";

export interface FileWatch {
  close(): void;
}

/**
 * Calls `onChange` once things settle after any of `files` changes. Each file's
 * folder is watched rather than the file: editors save by writing a new file and
 * renaming it over the old one, and Kubernetes swaps a ConfigMap by re-pointing
 * its `..data` link, and both would end a watch on the file itself. Changes are
 * debounced (`debounceMs` after the last one), so a save in several writes is one
 * reload. A folder that cannot be watched is reported and skipped: SIGHUP still works.
 */
export function watchFiles(
  files: readonly string[],
  debounceMs: number,
  onChange: () => void,
  onError: (folder: string, error: Error) => void,
): FileWatch {
  const namesByFolder = new Map<string, Set<string>>();
  for (const file of files) {
    const folder = dirname(file);
    const names = namesByFolder.get(folder) ?? new Set<string>();
    names.add(basename(file));
    namesByFolder.set(folder, names);
  }
  let timer: NodeJS.Timeout | undefined;
  const settle = (): void => {
    clearTimeout(timer);
    timer = setTimeout(onChange, debounceMs);
  };
  const watchers: FSWatcher[] = [];
  for (const [folder, names] of namesByFolder) {
    try {
      const watcher = watch(folder, { persistent: false }, (_event, name) => {
        if (name === null || names.has(name) || name.startsWith("..")) settle();
      });
      watcher.on("error", (error) => onError(folder, error));
      watchers.push(watcher);
    } catch (error: unknown) {
      onError(folder, error as Error);
    }
  }
  return {
    close() {
      clearTimeout(timer);
      for (const watcher of watchers) watcher.close();
    },
  };
}
