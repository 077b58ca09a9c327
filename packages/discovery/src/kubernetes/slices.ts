/**
 * EndpointSlice (discovery.k8s.io/v1) to endpoints. Only the fields read here are typed.
 *
 * Readiness follows the API's documented meaning of the conditions: `ready` unset counts as ready;
 * an endpoint that is `terminating` but still `serving` is kept aside and used only when no
 * endpoint of the service is ready — the fallback kube-proxy applies to terminating endpoints
 * (Kubernetes KEP-1669), so that a rollout that terminates every pod at once does not blackhole
 * traffic while the old pods still answer.
 */
import type { Endpoint } from '@weft/core';
import { addressProblem } from '@weft/core';

export interface EndpointSlice {
  readonly metadata: { readonly name: string; readonly resourceVersion?: string };
  readonly addressType?: string;
  readonly endpoints?: readonly SliceEndpoint[] | null;
  readonly ports?: readonly SlicePort[] | null;
}

interface SliceEndpoint {
  readonly addresses: readonly string[];
  readonly conditions?: {
    readonly ready?: boolean | null;
    readonly serving?: boolean | null;
    readonly terminating?: boolean | null;
  };
  readonly zone?: string;
  readonly nodeName?: string;
}

interface SlicePort {
  readonly name?: string | null;
  readonly port?: number | null;
}

/** One slice's contribution: ready endpoints, and terminating-but-serving ones kept for the fallback. */
export interface SliceEndpoints {
  readonly ready: readonly Endpoint[];
  readonly terminating: readonly Endpoint[];
  /** False when the slice has no port matching the resolver's `port` option. */
  readonly portFound: boolean;
}

const NONE: SliceEndpoints = { ready: [], terminating: [], portFound: false };

/** Finds the port number to use in a slice: by name, by number, or the only port. */
const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function portOf(slice: EndpointSlice, wanted: string | number | undefined): number | undefined {
  const ports = (Array.isArray(slice.ports) ? slice.ports : []).filter(isRecord) as SlicePort[];
  let match: SlicePort | undefined;
  if (wanted === undefined) match = ports.length === 1 ? ports[0] : undefined;
  else if (typeof wanted === 'number') match = ports.find((p) => p.port === wanted);
  else match = ports.find((p) => (p.name ?? '') === wanted);
  const port = match?.port;
  return typeof port === 'number' && Number.isInteger(port) && port > 0 && port < 65536 ? port : undefined;
}

/**
 * Converts one slice. Endpoints without a usable address are skipped; the first address is used, as
 * the API allows. The slice comes from the API server but is checked like any input: a field of
 * the wrong type is treated as absent, never thrown over.
 */
export function sliceEndpoints(slice: EndpointSlice, wanted: string | number | undefined): SliceEndpoints {
  if (!isRecord(slice)) return NONE;
  const port = portOf(slice, wanted);
  if (port === undefined) return NONE;
  const ready: Endpoint[] = [];
  const terminating: Endpoint[] = [];
  for (const e of Array.isArray(slice.endpoints) ? slice.endpoints : []) {
    if (!isRecord(e)) continue;
    const address = Array.isArray(e.addresses) ? e.addresses[0] : undefined;
    // Endpoint addresses are bare IPs or names: anything else (a bracketed IPv6, a host:port) is skipped.
    if (typeof address !== 'string' || addressProblem(address) !== undefined) continue;
    const c = isRecord(e.conditions) ? e.conditions : {};
    const labels: Record<string, string> = {};
    if (typeof e.zone === 'string' && e.zone) labels.zone = e.zone;
    if (typeof e.nodeName === 'string' && e.nodeName) labels.node = e.nodeName;
    const endpoint: Endpoint = { address, port, labels };
    if (c.ready !== false) ready.push(endpoint);
    else if (c.terminating === true && c.serving === true) terminating.push(endpoint);
  }
  return { ready, terminating, portFound: true };
}
