/** A copy of `o` without its `undefined` fields, so spreading it never erases a default. */
export function definedOnly<T extends object>(o: T): Partial<T> {
  const r: Partial<T> = {};
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] !== undefined) r[k] = o[k];
  return r;
}
