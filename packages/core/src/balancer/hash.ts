/**
 * A 32-bit string hash for consistent hashing: FNV-1a over the UTF-16 code units, then
 * MurmurHash3's finalizer (fmix32) so that keys differing in one character spread over the whole
 * range. Not cryptographic: a caller choosing keys can choose where they land, which is the point of
 * affinity, not a risk to it.
 */
export function hash32(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** 2^32: a {@link hash32} divided by it is in [0, 1). */
export const HASH_RANGE = 4_294_967_296;
