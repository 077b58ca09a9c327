/**
 * Unknown option keys are refused, not ignored: `createClient({ timeout: 500 })` must fail loudly
 * rather than run with no timeout. Each public entry point declares its keys once as a
 * {@link KeySet} (the compiler keeps it equal to the options interface) and checks its input with
 * {@link checkKnownKeys}; the error names the key and the closest valid one.
 */
import { invalidOption } from '../errors/errors.ts';

/** Every key of `T`, each mapped to `true`: `satisfies KeySet<Options>` keeps a list and a type equal. */
export type KeySet<T> = { readonly [K in keyof Required<T>]: true };

/** Edit distance (Levenshtein) between two short strings, case-insensitive. */
function distance(a: string, b: string): number {
  a = a.toLowerCase();
  b = b.toLowerCase();
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++)
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length]!;
}

/** Length of the common prefix of two strings, case-insensitive. */
function commonPrefix(a: string, b: string): number {
  let i = 0;
  while (i < a.length && i < b.length && a[i]!.toLowerCase() === b[i]!.toLowerCase()) i++;
  return i;
}

/** How far `key` is from the known key `k`: an edit distance, lowered for the usual slips. */
function score(key: string, k: string): number {
  // `timeout` for `timeoutMs`, `ttl` for `ttlMs`: a known key that starts with the given one.
  if (key.length >= 3 && k.toLowerCase().startsWith(key.toLowerCase())) return 0.5;
  // `timout` for `timeoutMs`: a misspelling of the key without its unit.
  const unitless = k.replace(/(Ms|Bytes|Seconds|Percent)$/, '');
  const d = Math.min(distance(key, k), distance(key, unitless));
  // `retries` for `retry`: a long shared stem.
  if (commonPrefix(key, k) >= Math.max(4, Math.ceil(key.length / 2))) return Math.min(d, 1.5);
  return d;
}

/** The known key closest to `key`, when one is close enough to be a likely misspelling or a prefix. */
export function closestKey(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestScore = Number.POSITIVE_INFINITY;
  for (const k of known) {
    const s = score(key, k);
    if (s < bestScore) {
      bestScore = s;
      best = k;
    }
  }
  return best !== undefined && bestScore <= Math.max(2, Math.floor(key.length / 3)) ? best : undefined;
}

/**
 * Throws `WEFT_INVALID_OPTION` when `value` is not a plain object or has a key outside `known`.
 *
 * @param where - What the options are for, as the user wrote it (`createClient`, `weft()`), and the
 *   path prefix for nested objects (`createDispatcher services.users`).
 */
export function checkKnownKeys<T extends object>(
  where: string,
  value: T | undefined,
  known: KeySet<T>,
): void {
  if (value === undefined) return;
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw invalidOption(where, 'options must be an object');
  for (const key of Object.keys(value)) {
    if (Object.hasOwn(known, key)) continue;
    const names = Object.keys(known);
    const near = closestKey(key, names);
    throw invalidOption(
      key,
      `${where} has no option ${JSON.stringify(key)}${near ? `; did you mean ${JSON.stringify(near)}?` : ''} (known: ${names.join(', ')})`,
    );
  }
}
