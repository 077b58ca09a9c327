/**
 * `weft mtls strict|permissive|status`: the `PeerAuthentication` documents. `strict` and
 * `permissive` write the mesh-wide one (`name: mesh`) or that of one service; `status` shows the mode
 * of the mesh and of every service with its own document. Servers and clients following the config
 * service apply a change to their next connection (and servers turned strict close their plaintext
 * ones at once).
 */
import {
  checkName,
  MESH_PEER_AUTHENTICATION,
  type MtlsMode,
  type StoredDocument,
  validateDocument,
} from '@weft/core/config';
import type { Api } from './api.ts';
import { type Output, UsageError } from './commands.ts';
import { CommandError } from './errors.ts';

function documentName(service: string | undefined): string {
  if (service === undefined) return MESH_PEER_AUTHENTICATION;
  const bad = checkName(service);
  if (bad) throw new UsageError(`--service ${service}: ${bad}`);
  if (service === MESH_PEER_AUTHENTICATION)
    throw new UsageError(`--service ${service}: that name is the mesh-wide default; omit --service`);
  return service;
}

const scopeOf = (name: string) =>
  name === MESH_PEER_AUTHENTICATION ? 'the mesh (default)' : `service ${name}`;

/** Writes the mode of the mesh, or of `options.service`. */
export async function mtlsMode(
  request: Api,
  o: Output,
  mode: MtlsMode,
  options: { service?: string } = {},
): Promise<void> {
  const name = documentName(options.service);
  const checked = validateDocument({ kind: 'PeerAuthentication', name, spec: { mode } });
  if (!checked.ok)
    throw new CommandError('invalid', `PeerAuthentication/${name} would be invalid`, {
      issues: checked.issues,
    });
  const { body } = await request('PUT', `/v1/documents/PeerAuthentication/${encodeURIComponent(name)}`, {
    spec: checked.document.spec,
  });
  const reply = body as { revision: number };
  o.write(
    o.json
      ? JSON.stringify(reply, null, 2)
      : `PeerAuthentication/${name}: ${mode} for ${scopeOf(name)}\nrevision ${reply.revision}`,
  );
}

/** Lists the mesh's mode and every service's own. */
export async function mtlsStatus(request: Api, o: Output): Promise<void> {
  const { body } = await request('GET', '/v1/documents/PeerAuthentication');
  const r = body as { revision: number; documents: StoredDocument<'PeerAuthentication'>[] };
  const mesh = r.documents.find((d) => d.name === MESH_PEER_AUTHENTICATION);
  const services = r.documents
    .filter((d) => d.name !== MESH_PEER_AUTHENTICATION)
    .sort((a, b) => a.name.localeCompare(b.name));
  if (o.json) {
    o.write(
      JSON.stringify(
        {
          revision: r.revision,
          mesh: mesh?.spec.mode ?? 'PERMISSIVE',
          services: Object.fromEntries(services.map((d) => [d.name, d.spec.mode])),
        },
        null,
        2,
      ),
    );
    return;
  }
  const lines = [
    `mesh: ${mesh?.spec.mode ?? 'PERMISSIVE'}${mesh ? ` (since revision ${mesh.revision})` : ' (no document: the default)'}`,
    ...services.map((d) => `service ${d.name}: ${d.spec.mode} (since revision ${d.revision})`),
  ];
  o.write(lines.join('\n'));
}
