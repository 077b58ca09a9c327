// Keeps package-lock.json installable with `npm ci` when the registry this project installs from
// does not serve every platform build of a package (Biome ships one optional package per OS and
// CPU). npm then leaves the foreign ones out of the lock, and `npm ci` refuses the lock as out of
// sync. This adds them back as optional entries with their OS and CPU, which `npm ci` skips on
// other platforms without fetching them. It runs after every install (the root `postinstall`).
import { readFileSync, writeFileSync } from 'node:fs';

const LOCK = new URL('../package-lock.json', import.meta.url);
const PLATFORM = /-(android|darwin|linux|win32|freebsd)-(arm64|x64|ia32|arm)(-musl)?$/;

let lock;
try {
  lock = JSON.parse(readFileSync(LOCK, 'utf8'));
} catch {
  process.exit(0); // no lock yet: nothing to complete
}
const packages = lock.packages ?? {};
let added = 0;
for (const [path, entry] of Object.entries(packages)) {
  for (const [name, range] of Object.entries(entry.optionalDependencies ?? {})) {
    const match = PLATFORM.exec(name);
    const key = `node_modules/${name}`;
    if (!match || packages[key] || packages[`${path}/${key}`] || !/^\d+\.\d+\.\d+$/.test(range)) continue;
    packages[key] = {
      version: range,
      cpu: [match[2]],
      ...(entry.dev ? { dev: true } : {}),
      ...(match[3] ? { libc: ['musl'] } : {}),
      optional: true,
      os: [match[1]],
    };
    added++;
  }
}
if (added > 0) {
  lock.packages = Object.fromEntries(
    Object.entries(packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a.localeCompare(b))),
  );
  writeFileSync(LOCK, `${JSON.stringify(lock, null, 2)}\n`);
  console.log(`package-lock.json: added ${added} platform entries the registry did not list`);
}
