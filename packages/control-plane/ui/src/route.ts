/**
 * The Route of one destination: its subsets (label selectors) and rules, and for admins the
 * traffic-split sliders. A split is written with compare-and-set (`If-Match` with the revision the
 * page showed): when someone else changed the Route meanwhile, the config service answers 412 and
 * the page says so and keeps the other write; nothing is overwritten.
 */
import { ApiError, api, getOptional } from './api.ts';
import { fill, h } from './dom.ts';
import type { RouteSpec, StoredDocument } from './types.ts';

const describeMatch = (m: unknown) => JSON.stringify(m);

/** Percent shares of `weights` that add up to 100 (largest remainder). */
export function shares(weights: readonly number[]): number[] {
  const total = weights.reduce((a, b) => a + b, 0);
  if (total === 0) return weights.map(() => 0);
  const raw = weights.map((w) => (w * 100) / total);
  const floor = raw.map(Math.floor);
  let left = 100 - floor.reduce((a, b) => a + b, 0);
  const order = raw.map((r, i) => [r - floor[i]!, i] as const).sort((a, b) => b[0] - a[0]);
  for (const [, i] of order) if (left-- > 0) floor[i]!++;
  return floor;
}

export function routeSection(destination: string, canWrite: boolean, onWritten: () => void): HTMLElement {
  const body = h('div', {});
  const section = h(
    'section',
    { class: 'card', 'data-test': 'route' },
    h('h3', {}, `Route/${destination}`),
    body,
  );

  async function load(notice?: HTMLElement): Promise<void> {
    const doc = await getOptional<StoredDocument<RouteSpec>>(
      `/v1/documents/Route/${encodeURIComponent(destination)}`,
    );
    if (!doc) {
      fill(body, h('p', { class: 'muted' }, `No Route for ${destination}: calls go to every endpoint.`));
      return;
    }
    const subsets = Object.entries(doc.spec.subsets ?? {});
    fill(
      body,
      notice,
      h('p', { class: 'muted' }, `revision ${doc.revision}`),
      h(
        'table',
        { 'data-test': 'subsets' },
        h('tr', {}, h('th', {}, 'subset'), h('th', {}, 'selects endpoints labelled')),
        ...subsets.map(([name, sel]) =>
          h(
            'tr',
            {},
            h('td', {}, name),
            h(
              'td',
              {},
              Object.entries(sel)
                .map(([k, v]) => `${k}=${v}`)
                .join(', '),
            ),
          ),
        ),
      ),
      ...doc.spec.rules.map((rule, i) => ruleView(doc, i, rule, canWrite, load, onWritten)),
    );
  }
  section.addEventListener('route:reload', () => void load());
  void load().catch((e) => fill(body, h('p', { class: 'error' }, String(e.message ?? e))));
  return section;
}

function ruleView(
  doc: StoredDocument<RouteSpec>,
  index: number,
  rule: RouteSpec['rules'][number],
  canWrite: boolean,
  reload: (notice?: HTMLElement) => Promise<void>,
  onWritten: () => void,
): HTMLElement {
  const backends = rule.backends ?? [];
  const title = `rule ${rule.name ?? index + 1}${rule.matches?.length ? ` · matches ${rule.matches.map(describeMatch).join(' or ')}` : ' · every call'}`;
  const view = h('div', { class: 'rule', 'data-test': 'rule', 'data-rule': index }, h('h4', {}, title));
  if (backends.length === 0) {
    view.append(h('p', { class: 'muted' }, 'no backends: every endpoint of the destination'));
    return view;
  }
  if (backends.length === 1) {
    view.append(h('p', {}, `every call of this rule goes to subset ${backends[0]!.subset}`));
    return view;
  }
  const values = shares(backends.map((b) => b.weight));
  const labels: HTMLElement[] = [];
  const sliders = backends.map((b, j) => {
    const input = h('input', {
      type: 'range',
      min: 0,
      max: 100,
      step: 1,
      value: values[j]!,
      disabled: !canWrite,
      'data-test': 'slider',
      'data-subset': b.subset,
      'aria-label': `weight of ${b.subset}`,
    });
    input.addEventListener('input', () => {
      values[j] = Number(input.value);
      // Two backends are one split: moving one moves the other so that they add up to 100.
      if (backends.length === 2) {
        values[1 - j] = 100 - values[j]!;
        sliders[1 - j]!.value = String(values[1 - j]);
      }
      show();
    });
    return input;
  });
  const show = () => {
    const s = shares(values);
    labels.forEach((l, j) => {
      fill(l, `${s[j]}%`);
    });
  };
  const status = h('p', { class: 'status', 'data-test': 'route-status' });
  const apply = h(
    'button',
    {
      type: 'button',
      disabled: !canWrite,
      title: canWrite ? 'write the Route with these weights' : 'a viewer token may not change the Route',
      'data-test': 'apply-split',
    },
    'Apply split',
  );
  apply.addEventListener('click', async () => {
    const spec = structuredClone(doc.spec);
    spec.rules[index]!.backends = backends.map((b, j) => ({ ...b, weight: values[j]! }));
    apply.disabled = true;
    try {
      const r = await api<{ revision: number }>(
        'PUT',
        `/v1/documents/Route/${encodeURIComponent(doc.name)}`,
        {
          body: { spec },
          ifMatch: doc.revision,
        },
      );
      onWritten();
      await reload(
        h('p', { class: 'ok', 'data-test': 'route-written' }, `written at revision ${r.body.revision}`),
      );
    } catch (error) {
      if (error instanceof ApiError && error.code === 'conflict') {
        fill(
          status,
          h(
            'span',
            { class: 'error', 'data-test': 'route-conflict' },
            `Not written: Route/${doc.name} was changed by someone else since revision ${doc.revision} (${error.message}). Their change is kept; reload to see it and split again.`,
          ),
          ' ',
          h('button', { type: 'button', onclick: () => void reload() }, 'Reload'),
        );
      } else fill(status, h('span', { class: 'error' }, (error as Error).message));
      apply.disabled = !canWrite;
    }
  });
  view.append(
    h(
      'table',
      { class: 'split' },
      h('tr', {}, h('th', {}, 'subset'), h('th', {}, 'weight'), h('th', {}, 'share')),
      ...backends.map((b, j) => {
        const label = h('td', { class: 'num', 'data-test': 'share', 'data-subset': b.subset });
        labels.push(label);
        return h('tr', {}, h('td', {}, b.subset), h('td', {}, sliders[j]!), label);
      }),
    ),
    h('div', { class: 'actions' }, apply),
    status,
  );
  show();
  return view;
}
