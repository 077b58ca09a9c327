/**
 * The kill switch: the `TrafficSwitch` document of the mesh (`mesh`) or of one service. Stopping
 * asks for a confirmation first; both directions write with compare-and-set, as the CLI's
 * `weft traffic stop|resume` writes the same document.
 */
import { ApiError, api, getOptional } from './api.ts';
import { confirmDialog, fill, h } from './dom.ts';
import type { StoredDocument } from './types.ts';

type Switch = StoredDocument<{ stopped: boolean; reason?: string }>;

export function switchSection(name: string, canWrite: boolean, onWritten: () => void): HTMLElement {
  const scope = name === 'mesh' ? 'every call between services' : `every call to ${name}`;
  const body = h('div', {});
  const section = h(
    'section',
    { class: 'card switch', 'data-test': 'switch', 'data-switch': name },
    h('h3', {}, `Kill switch: TrafficSwitch/${name}`),
    body,
  );
  async function load(message?: HTMLElement): Promise<void> {
    const doc = await getOptional<Switch>(`/v1/documents/TrafficSwitch/${encodeURIComponent(name)}`);
    const stopped = doc?.spec.stopped === true;
    const reason = h('input', {
      type: 'text',
      placeholder: 'reason (shown in every refusal)',
      maxlength: 256,
      disabled: !canWrite || stopped,
      'data-test': 'switch-reason',
    });
    const button = h(
      'button',
      {
        type: 'button',
        class: stopped ? '' : 'danger',
        disabled: !canWrite,
        title: canWrite ? '' : 'a viewer token may not change the kill switch',
        'data-test': stopped ? 'resume' : 'stop',
      },
      stopped ? 'Resume traffic' : 'Stop traffic',
    );
    button.addEventListener('click', async () => {
      if (!stopped) {
        const sure = await confirmDialog(
          'Stop traffic?',
          `This stops ${scope}: clients fail these calls before sending them and servers refuse them, within about a second, until someone resumes.`,
          'Stop traffic',
        );
        if (!sure) return;
      }
      const spec = stopped
        ? { stopped: false }
        : { stopped: true, ...(reason.value ? { reason: reason.value } : {}) };
      try {
        await api('PUT', `/v1/documents/TrafficSwitch/${encodeURIComponent(name)}`, {
          body: { spec },
          ifMatch: doc?.revision ?? 0,
        });
        onWritten();
        await load();
      } catch (error) {
        const text =
          error instanceof ApiError && error.code === 'conflict'
            ? `Not written: TrafficSwitch/${name} was changed by someone else meanwhile; it is shown as it is now.`
            : (error as Error).message;
        await load(h('p', { class: 'error', 'data-test': 'switch-error' }, text));
      }
    });
    fill(
      body,
      message,
      h(
        'p',
        { class: stopped ? 'bad state' : 'ok state', 'data-test': 'switch-state' },
        stopped ? `STOPPED${doc?.spec.reason ? `: ${doc.spec.reason}` : ''}` : 'traffic flows',
        h('span', { class: 'muted' }, doc ? ` (revision ${doc.revision})` : ' (no document)'),
      ),
      h('div', { class: 'actions' }, stopped ? null : reason, button),
    );
  }
  void load().catch((e) => fill(body, h('p', { class: 'error' }, String(e.message ?? e))));
  return section;
}
