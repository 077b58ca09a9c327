/** Starting backend processes (HTTP and gRPC) and reading their request counters. */
import { request } from 'undici';
import { type Child, childScript, startChild } from './proc.ts';

export interface EndpointSpec {
  /** Service time in ms (a timer before answering). Defaults to 0. */
  delayMs?: number;
  /** Response status. Defaults to 200. */
  status?: number;
  /** Sent back in an `x-backend` response header (which endpoint answered). Defaults to none (no header). */
  name?: string;
}

export interface Backends {
  readonly ports: number[];
  readonly endpoints: string[];
  /** Process ids of the backend processes. */
  readonly pids: number[];
  /** Requests served so far by each endpoint, in spec order. */
  counts(): Promise<number[]>;
  close(): Promise<void>;
}

/** A fixed certificate for backends serving mTLS (PEM). */
export interface BackendMtls {
  key: string;
  cert: string;
  ca: string;
}

/**
 * Starts `processes` backend processes sharing `specs` between them (endpoint i in process i %
 * processes); with `mtls`, each endpoint serves mTLS beside plaintext.
 */
export async function startBackends(
  specs: readonly EndpointSpec[],
  processes = 1,
  mtls?: BackendMtls,
): Promise<Backends> {
  const groups: { index: number; spec: EndpointSpec }[][] = Array.from({ length: processes }, () => []);
  specs.forEach((spec, index) => {
    groups[index % processes]!.push({ index, spec });
  });
  const used = groups.filter((g) => g.length > 0);
  const children: Child<{ ports: number[] }>[] = await Promise.all(
    used.map((g) =>
      startChild<{ ports: number[] }>(childScript('backend.ts'), {
        args: [JSON.stringify({ endpoints: g.map((x) => x.spec), ...(mtls ? { mtls } : {}) })],
      }),
    ),
  );
  const ports = new Array<number>(specs.length);
  used.forEach((g, c) => {
    g.forEach((x, k) => {
      ports[x.index] = children[c]!.ready.ports[k]!;
    });
  });
  return {
    ports,
    endpoints: ports.map((p) => `127.0.0.1:${p}`),
    pids: children.map((c) => c.process.pid!),
    async counts() {
      const out = new Array<number>(specs.length).fill(0);
      await Promise.all(
        used.map(async (g, c) => {
          const port = children[c]!.ready.ports[0]!;
          const res = await request(`http://127.0.0.1:${port}/__stats`);
          const body = (await res.body.json()) as { requests: number[] };
          g.forEach((x, k) => {
            out[x.index] = body.requests[k]!;
          });
        }),
      );
      return out;
    },
    async close() {
      await Promise.all(children.map((c) => c.kill()));
    },
  };
}

export interface GrpcBackends {
  readonly ports: number[];
  /** `127.0.0.1:<port>` of each endpoint. */
  readonly endpoints: string[];
  /** Process id of the backend process. */
  readonly pids: number[];
  close(): Promise<void>;
}

/** Starts one gRPC backend process (children/grpc-backend.ts) serving `count` endpoints. */
export async function startGrpcBackends(count: number): Promise<GrpcBackends> {
  const child = await startChild<{ ports: number[] }>(childScript('grpc-backend.ts'), {
    args: [JSON.stringify({ endpoints: count })],
  });
  const ports = child.ready.ports;
  return {
    ports,
    endpoints: ports.map((p) => `127.0.0.1:${p}`),
    pids: [child.process.pid!],
    close: () => child.kill(),
  };
}

/** The endpoints of `backends` as endpoint objects carrying `labels` (for a Route's subsets). */
export function labelledEndpoints(
  backends: Backends,
  labels: Readonly<Record<string, string>>,
): { address: string; port: number; labels: Readonly<Record<string, string>> }[] {
  return backends.ports.map((port) => ({ address: '127.0.0.1', port, labels }));
}
