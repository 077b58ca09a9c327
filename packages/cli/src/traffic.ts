/**
 * `weft traffic stop|resume|status`: the kill switch. `stop` writes the `TrafficSwitch` document of
 * the mesh (`name: mesh`) or of one service with `stopped: true`; every connected client then fails
 * its calls before sending and every server following the config service refuses them, within about
 * a second. `resume` writes `stopped: false` (the document stays, so the dashboard and the history
 * show the toggle). `status` lists the switches and the revision each was last written at.
 */
import { checkName, MESH_SWITCH, type StoredDocument, validateDocument } from '@weft/core/config';
import type { Api } from './api.ts';
import { type Output, UsageError } from './commands.ts';
import { CommandError } from './errors.ts';

export interface TrafficStopOptions {
  /** The one service to stop. Defaults to the whole mesh. */
  service?: string;
  /** Why, shown in every refusal and in `status`. Defaults to none. */
  reason?: string;
}

/** The document name for `--service`: the service, or `mesh` without one. */
function switchName(service: string | undefined): string {
  if (service === undefined) return MESH_SWITCH;
  const bad = checkName(service);
  if (bad) throw new UsageError(`--service ${service}: ${bad}`);
  if (service === MESH_SWITCH)
    throw new UsageError(`--service ${MESH_SWITCH}: that name is the mesh-wide switch; omit --service`);
  return service;
}

const scopeOf = (name: string) => (name === MESH_SWITCH ? 'the whole mesh' : `service ${name}`);

async function write(request: Api, o: Output, name: string, spec: { stopped: boolean; reason?: string }) {
  const checked = validateDocument({ kind: 'TrafficSwitch', name, spec });
  if (!checked.ok)
    throw new CommandError('invalid', `TrafficSwitch/${name} would be invalid`, { issues: checked.issues });
  const { body } = await request('PUT', `/v1/documents/TrafficSwitch/${encodeURIComponent(name)}`, {
    spec: checked.document.spec,
  });
  const reply = body as { revision: number; document: StoredDocument<'TrafficSwitch'> };
  const what = spec.stopped
    ? `traffic stopped for ${scopeOf(name)}${spec.reason === undefined ? '' : ` (${spec.reason})`}`
    : `traffic resumed for ${scopeOf(name)}`;
  o.write(
    o.json ? JSON.stringify(reply, null, 2) : `TrafficSwitch/${name}: ${what}\nrevision ${reply.revision}`,
  );
}

export async function trafficStop(request: Api, o: Output, options: TrafficStopOptions = {}): Promise<void> {
  const name = switchName(options.service);
  await write(request, o, name, {
    stopped: true,
    ...(options.reason === undefined ? {} : { reason: options.reason }),
  });
}

export async function trafficResume(
  request: Api,
  o: Output,
  options: { service?: string } = {},
): Promise<void> {
  await write(request, o, switchName(options.service), { stopped: false });
}

export async function trafficStatus(request: Api, o: Output): Promise<void> {
  const { body } = await request('GET', '/v1/documents/TrafficSwitch');
  const r = body as { revision: number; documents: StoredDocument<'TrafficSwitch'>[] };
  const stopped = r.documents.filter((d) => d.spec.stopped);
  if (o.json) {
    o.write(
      JSON.stringify(
        {
          revision: r.revision,
          stopped: stopped.map((d) => ({ name: d.name, reason: d.spec.reason ?? null, since: d.revision })),
          switches: r.documents,
        },
        null,
        2,
      ),
    );
    return;
  }
  if (stopped.length === 0) {
    o.write(`traffic flows: no switch is on (revision ${r.revision})`);
    return;
  }
  const lines = stopped
    // The mesh-wide switch first: it stops everything else.
    .sort(
      (a, b) =>
        Number(b.name === MESH_SWITCH) - Number(a.name === MESH_SWITCH) || a.name.localeCompare(b.name),
    )
    .map(
      (d) =>
        `stopped: ${scopeOf(d.name)} since revision ${d.revision}${d.spec.reason === undefined ? '' : ` (${d.spec.reason})`}`,
    );
  o.write(lines.join('\n'));
}
