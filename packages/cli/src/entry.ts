/**
 * Whether a module is the script Node was started with. `import.meta.main` says so from Node.js
 * 22.18 and 24.2; older versions in the supported range leave it undefined, and then the script's
 * path decides (symbolic links resolved, as Node resolves the main script).
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export function isEntryModule(meta: { main?: boolean; url: string }, script = process.argv[1]): boolean {
  if (typeof meta.main === 'boolean') return meta.main;
  if (!script) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(meta.url));
  } catch {
    return false;
  }
}
