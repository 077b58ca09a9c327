/**
 * The effective policy of a destination as the config service holds it, each value with the
 * document it came from: the `DestinationPolicy` named after the destination, and the kill
 * switches that apply (mesh-wide and the destination's own). Values that no document sets come
 * from the calling client's options in code, else from the built-in defaults; the config service
 * cannot see those, and the page says so rather than guessing.
 */
import { getOptional } from './api.ts';
import { fill, h } from './dom.ts';
import type { StoredDocument } from './types.ts';

/** `{ retry: { budget: { percent: 20 } } }` → `[['retry.budget.percent', 20]]`. */
export function flatten(value: unknown, prefix = ''): [string, unknown][] {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 0) return prefix ? [[prefix, {}]] : [];
    return entries.flatMap(([k, v]) => flatten(v, prefix ? `${prefix}.${k}` : k));
  }
  return [[prefix, value]];
}

export function policySection(destination: string): HTMLElement {
  const body = h('div', {});
  const section = h(
    'section',
    { class: 'card', 'data-test': 'policy' },
    h('h3', {}, 'Effective policy'),
    body,
  );
  const enc = encodeURIComponent(destination);
  void Promise.all([
    getOptional<StoredDocument>(`/v1/documents/DestinationPolicy/${enc}`),
    getOptional<StoredDocument<{ stopped: boolean }>>('/v1/documents/TrafficSwitch/mesh'),
    destination === 'mesh'
      ? undefined
      : getOptional<StoredDocument<{ stopped: boolean }>>(`/v1/documents/TrafficSwitch/${enc}`),
  ])
    .then(([policy, mesh, own]) => {
      const rows: [string, unknown, string][] = [];
      if (policy)
        for (const [path, value] of flatten(policy.spec))
          rows.push([path, value, `DestinationPolicy/${destination} (revision ${policy.revision})`]);
      for (const sw of [mesh, own])
        if (sw)
          rows.push([
            'traffic stopped',
            sw.spec.stopped,
            `TrafficSwitch/${sw.name} (revision ${sw.revision})`,
          ]);
      fill(
        body,
        rows.length
          ? h(
              'table',
              { 'data-test': 'policy-table' },
              h('tr', {}, h('th', {}, 'setting'), h('th', {}, 'value'), h('th', {}, 'from')),
              ...rows.map(([path, value, from]) =>
                h(
                  'tr',
                  {},
                  h('td', {}, path),
                  h('td', { class: 'mono' }, JSON.stringify(value)),
                  h('td', {}, from),
                ),
              ),
            )
          : h('p', { class: 'muted' }, `No document sets a policy for ${destination}.`),
        h(
          'p',
          { class: 'muted' },
          'Settings no document sets come from each calling client’s options in code, else from the built-in defaults (see the configuration reference).',
        ),
      );
    })
    .catch((e) => fill(body, h('p', { class: 'error' }, String(e.message ?? e))));
  return section;
}
