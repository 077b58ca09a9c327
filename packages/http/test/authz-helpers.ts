/**
 * Test helpers for the authorization tests (HTTP and gRPC): write `AuthorizationPolicy` documents to
 * a real config service and wait until a server's config client has them.
 */
import assert from 'node:assert/strict';
import type { ServiceProcess } from '@weft/control-plane/testing';
import type { ConfigClient } from '@weft/core/config';

export const controlPlaneApi = (cp: ServiceProcess, method: string, path: string, body?: unknown) =>
  fetch(`${cp.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${cp.token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });

export type Spec = Record<string, unknown>;

/** Makes the AuthorizationPolicy documents exactly `docs`, and waits until the servers' config has them. */
export async function setPolicies(
  cp: ServiceProcess,
  config: ConfigClient,
  docs: Record<string, Spec>,
): Promise<void> {
  const api = (method: string, path: string, body?: unknown) => controlPlaneApi(cp, method, path, body);
  const list = (await (await api('GET', '/v1/documents/AuthorizationPolicy')).json()) as {
    documents: { name: string }[];
  };
  let revision = 0;
  for (const d of list.documents) {
    if (docs[d.name]) continue;
    const r = await api('DELETE', `/v1/documents/AuthorizationPolicy/${d.name}`);
    assert.equal(r.status, 200);
    revision = ((await r.json()) as { revision: number }).revision;
  }
  const documents = Object.entries(docs).map(([name, spec]) => ({ kind: 'AuthorizationPolicy', name, spec }));
  if (documents.length) {
    const r = await api('POST', '/v1/apply', { documents });
    assert.equal(r.status, 200, await r.clone().text());
    revision = Math.max(revision, ((await r.json()) as { revision: number }).revision);
  }
  for (let i = 0; config.revision < revision; i++) {
    assert.ok(i < 500, 'the config client did not see the policies');
    await new Promise((r) => setTimeout(r, 10));
  }
}
