/**
 * The client's on-disk last-known-good snapshot. Written atomically (temp file in the same
 * directory, fsync, rename), so a crash mid-write leaves the previous cache intact; read back with
 * validation, so a damaged or foreign file is ignored rather than trusted.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
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
