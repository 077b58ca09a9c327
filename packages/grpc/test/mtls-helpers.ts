/**
 * Test kit of the gRPC mTLS tests: a real config service (its CA, registry and documents), real
 * identities from it (`createIdentity`), Weft gRPC servers serving mTLS beside plaintext on one
 * port, and the clients that call them.
 */
import assert from 'node:assert/strict';
import {
  credentials,
  Metadata,
  type ServiceError,
  status as Status,
  type sendUnaryData,
} from '@grpc/grpc-js';
import { controlPlaneApi, type ServiceProcess } from '@weft/control-plane/testing';
import { currentContext, type MeshCredentials, type MeshIdentity, type MtlsMode } from '@weft/core';
import type { ConfigClient } from '@weft/core/config';
import { createIdentity, type Identity } from '@weft/discovery';
import { createGrpcServer, type WeftGrpcServer } from '../src/index.ts';
import { type TestClient, TestServiceClient, testServiceDefinition, unary } from './helpers.ts';

export interface MeshServer {
  readonly server: WeftGrpcServer;
  readonly port: number;
  /** Calls that reached the handler. */
  handled(): number;
  /** The mTLS part of the admin document. */
  mtls(): { mode: string; connections: Record<string, number> };
}

/** A Weft gRPC server for `service` serving mTLS with `identity` on one port of 127.0.0.1. */
export async function meshServer(
  service: string,
  identity: MeshIdentity,
  config: ConfigClient,
  mode?: MtlsMode,
  register?: { cp: ServiceProcess },
): Promise<MeshServer> {
  let handled = 0;
  const server = createGrpcServer({
    service,
    config,
    drainSignals: false,
    mtls: mode === undefined ? { identity } : { identity, mode },
    ...(register ? { register: { service, urls: register.cp.url, token: register.cp.token } } : {}),
  });
  server.addService(testServiceDefinition, {
    // The caller's verified SPIFFE ID, as the handler sees it.
    unaryCall: (_call: unknown, cb: sendUnaryData<object>) => {
      handled++;
      cb(null, { username: currentContext()?.peer?.spiffeId ?? 'none' });
    },
    // Answers after the delay the `delay-ms` metadata asks for: a call kept in flight.
    emptyCall: (call: { metadata: Metadata }, cb: sendUnaryData<object>) => {
      handled++;
      setTimeout(() => cb(null, {}), Number(call.metadata.get('delay-ms')[0] ?? 0));
    },
  } as never);
  const port = await server.listen('127.0.0.1:0');
  return {
    server,
    port,
    handled: () => handled,
    mtls: () => (server.runtime.describe() as { server: { mtls: [never] } }).server.mtls[0],
  };
}

/** A plain grpc-js client (no Weft, plaintext) of `port`. */
export const plaintextClient = (port: number): TestClient =>
  new TestServiceClient(`127.0.0.1:${port}`, credentials.createInsecure());

export interface Outcome {
  code: number;
  username?: string;
  details?: string;
  weftError?: string;
}

/** One unary call's outcome: OK with the username the handler answered, or the error's code. */
export async function call(client: TestClient, timeoutMs = 5000): Promise<Outcome> {
  try {
    const res = await unary<{ username: string }>(client, 'unaryCall', {}, new Metadata(), {
      deadline: Date.now() + timeoutMs,
    });
    return { code: Status.OK, username: res.username };
  } catch (error) {
    const e = error as ServiceError;
    const weftError = e.metadata?.get('weft-error')[0];
    return {
      code: e.code,
      details: e.details,
      ...(weftError === undefined ? {} : { weftError: String(weftError) }),
    };
  }
}

/** A service token scoped to `service`. */
export async function serviceToken(cp: ServiceProcess, service: string): Promise<string> {
  const res = await controlPlaneApi(cp, 'POST', '/v1/tokens', { name: service, role: 'service' });
  assert.equal(res.status, 201, await res.clone().text());
  return ((await res.json()) as { token: string }).token;
}

/** The identity of `service` from the config service, ready (its first certificate arrived). */
export async function meshIdentity(
  cp: ServiceProcess,
  service: string,
  config: ConfigClient,
  lifetimeMs?: number,
): Promise<Identity> {
  const identity = createIdentity({
    service,
    urls: cp.url,
    token: await serviceToken(cp, service),
    config,
    ...(lifetimeMs === undefined ? {} : { lifetimeMs }),
  });
  await identity.ready();
  return identity;
}

/** An identity that never changes: these credentials (another CA's certificate, an expired one, …). */
export function fixedIdentity(credentials: MeshCredentials): MeshIdentity {
  return { credentials, onChange: () => () => {} };
}

/** Writes one document and waits until `config` has the revision it made. */
export async function applyDocument(
  cp: ServiceProcess,
  config: ConfigClient,
  kind: string,
  name: string,
  spec: object | undefined,
): Promise<void> {
  const res =
    spec === undefined
      ? await controlPlaneApi(cp, 'DELETE', `/v1/documents/${kind}/${name}`)
      : await controlPlaneApi(cp, 'POST', '/v1/apply', { documents: [{ kind, name, spec }] });
  assert.equal(res.status, 200, await res.clone().text());
  const { revision } = (await res.json()) as { revision: number };
  await until(() => config.revision >= revision, 'the config client to see the document');
}

/** Waits (real time) until `done()`, failing with `what` after `ms`. */
export async function until(
  done: () => boolean | Promise<boolean>,
  what: string,
  ms = 10_000,
): Promise<void> {
  const end = Date.now() + ms;
  while (!(await done())) {
    assert.ok(Date.now() < end, `timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
