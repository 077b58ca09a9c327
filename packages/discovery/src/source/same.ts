import type { Endpoint } from '@weft/core';

/** True when two endpoints with the same key carry the same weight and labels. */
export function sameEndpoint(a: Endpoint, b: Endpoint): boolean {
  if ((a.weight ?? 1) !== (b.weight ?? 1)) return false;
  const la = a.labels;
  const lb = b.labels;
  if (la === lb) return true;
  const ka = la ? Object.keys(la) : [];
  const kb = lb ? Object.keys(lb) : [];
  if (ka.length !== kb.length) return false;
  for (const k of ka) if (la?.[k] !== lb?.[k]) return false;
  return true;
}
