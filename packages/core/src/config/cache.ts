/**
 * The client's on-disk last-known-good snapshot. Written atomically (temp file in the same
 * directory, fsync, rename), so a crash mid-write leaves the previous cache intact; read back with
 * validation, so a damaged or foreign file is ignored rather than trusted. A temp file left by a
 * process killed mid-write is removed when the next client starts ({@link removeStaleCacheTemps}).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Snapshot } from './protocol.ts';

/** Format marker of cache files, bumped on incompatible changes. */
export const CACHE_FORMAT = 'weft-config-cache/1';

interface CacheFile extends Snapshot {
  readonly format: string;
  readonly savedAt: string;
}

/** Writes `snapshot` to `file` atomically. */
export async function writeSnapshotCache(file: string, snapshot: Snapshot): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const body: CacheFile = { format: CACHE_FORMAT, savedAt: new Date().toISOString(), ...snapshot };
  const handle = await open(tmp, 'w', 0o600);
  try {
    await handle.writeFile(JSON.stringify(body));
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(tmp, file);
  } catch (error) {
    await unlink(tmp).catch(() => {});
    throw error;
  }
}

/** Reads a cache file; undefined when it is missing, damaged or of another format. */
export async function readSnapshotCache(file: string): Promise<Snapshot | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const c = JSON.parse(text) as Partial<CacheFile>;
    if (
      c.format !== CACHE_FORMAT ||
      typeof c.storeId !== 'string' ||
      !Number.isSafeInteger(c.revision) ||
      !Array.isArray(c.documents) ||
      !Array.isArray(c.instances)
    )
      return undefined;
    return { storeId: c.storeId, revision: c.revision!, documents: c.documents, instances: c.instances };
  } catch {
    return undefined;
  }
}

/** A temp file older than this is stale even when its writer's pid is alive (pid reuse, other hosts). */
export const STALE_TEMP_MS = 60_000;

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function alive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes `<file>.<pid>.<hex>.tmp` files of earlier writers: those whose process is gone, and any
 * older than {@link STALE_TEMP_MS} (a write takes milliseconds). Returns the names removed. Never
 * throws: a directory that cannot be read just leaves its temp files.
 */
export async function removeStaleCacheTemps(file: string, now = Date.now()): Promise<string[]> {
  const dir = dirname(file);
  const pattern = new RegExp(`^${escapeRegExp(basename(file))}\\.(\\d+)\\.[0-9a-f]+\\.tmp$`);
  const removed: string[] = [];
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return removed;
  }
  for (const name of names) {
    const m = pattern.exec(name);
    if (!m) continue;
    const path = join(dir, name);
    try {
      const old = now - (await stat(path)).mtimeMs > STALE_TEMP_MS;
      if (!old && alive(Number(m[1]))) continue;
      await unlink(path);
      removed.push(name);
    } catch {}
  }
  return removed;
}
