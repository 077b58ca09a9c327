/**
 * The data directory holds token hashes and the registry: it is created 0700 and the database
 * file 0600, whatever the process umask. SQLite creates its `-wal` and `-shm` files with the mode
 * of the database file, so making the file 0600 before SQLite opens it covers them too; files
 * left by an older version with a wider mode are narrowed as well.
 */
import { chmodSync, closeSync, existsSync, fchmodSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';

/** Directory mode of a data directory the store creates. */
export const DATA_DIR_MODE = 0o700;
/** Mode of the database file and its `-wal`/`-shm` companions. */
export const DATA_FILE_MODE = 0o600;

/**
 * Creates the directory of `file` (0700, each directory it creates) and `file` itself (0600) if
 * missing, and narrows `file`, `file-wal` and `file-shm` to 0600. An existing directory keeps its
 * mode: it may be shared (a home directory, a mounted volume) and is the operator's to choose.
 */
export function preparePrivateFile(file: string): void {
  const dir = dirname(file);
  const first = mkdirSync(dir, { recursive: true, mode: DATA_DIR_MODE });
  if (first !== undefined) {
    // mkdir applies the umask; chmod does not. Narrow every directory this call created.
    for (let d = dir; ; d = dirname(d)) {
      chmodSync(d, DATA_DIR_MODE);
      if (d === first || dirname(d) === d) break;
    }
  }
  const fd = openSync(file, 'a', DATA_FILE_MODE);
  try {
    fchmodSync(fd, DATA_FILE_MODE);
  } finally {
    closeSync(fd);
  }
  for (const companion of [`${file}-wal`, `${file}-shm`, `${file}-journal`])
    if (existsSync(companion)) chmodSync(companion, DATA_FILE_MODE);
}
