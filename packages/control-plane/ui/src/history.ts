/**
 * The history of documents: every write with its revision, time and author, a diff of each
 * document against its version before, and one-click rollback to the state after any revision
 * (`POST /v1/rollback`, itself a new revision, so a rollback can be rolled back).
 */
import { api, get } from './api.ts';
import { type DiffLine, diffLines, sortedJson, withContext } from './diff.ts';
import { fill, h } from './dom.ts';
import type { Change, LogEntry, StoredDocument } from './types.ts';

type DocChange = { op: 'put'; document: StoredDocument } | { op: 'delete'; kind: string; name: string };

const isDocChange = (c: Change): c is DocChange => c.op === 'put' || c.op === 'delete';
const keyOf = (c: DocChange) =>
  c.op === 'put' ? `${c.document.kind}/${c.document.name}` : `${c.kind}/${c.name}`;

/** The spec of `key` just before `revision`, from the loaded entries (newest first). */
function before(
  entries: readonly LogEntry[],
  key: string,
  revision: number,
): { spec: unknown; known: boolean } {
  for (const e of entries) {
    if (e.revision >= revision) continue;
    for (const c of e.changes)
      if (isDocChange(c) && keyOf(c) === key)
        return { spec: c.op === 'put' ? c.document.spec : undefined, known: true };
  }
  return { spec: undefined, known: false };
}

const diffView = (lines: DiffLine[]) =>
  h(
    'pre',
    { class: 'diff', 'data-test': 'diff' },
    ...lines.map((l) =>
      h('span', { class: l.op === '+' ? 'add' : l.op === '-' ? 'del' : '' }, `${l.op} ${l.text}\n`),
    ),
  );

export function historyPage(canWrite: boolean): { element: HTMLElement; refresh(): Promise<void> } {
  const list = h('div', {});
  const status = h('p', { class: 'status', 'data-test': 'history-status' });
  const element = h('section', { 'data-test': 'history' }, h('h2', {}, 'History'), status, list);

  async function refresh(): Promise<void> {
    const r = await get<{ revision: number; entries: LogEntry[] }>('/v1/history?limit=500');
    const entries = r.entries
      .filter((e) => e.changes.some(isDocChange))
      .sort((a, b) => b.revision - a.revision);
    const newest = entries[0]?.revision;
    fill(
      list,
      entries.length ? null : h('p', { class: 'muted' }, 'no document has been written yet'),
      ...entries.map((e) => {
        const restore = h(
          'button',
          {
            type: 'button',
            disabled: !canWrite || e.revision === newest,
            title: !canWrite
              ? 'a viewer token may not roll back'
              : e.revision === newest
                ? 'this is the current state'
                : `make the documents what they were after revision ${e.revision}`,
            'data-test': 'rollback',
            'data-revision': e.revision,
          },
          e.revision === newest ? 'current' : `Roll back to ${e.revision}`,
        );
        restore.addEventListener('click', async () => {
          restore.disabled = true;
          try {
            const done = await api<{ revision: number; changed: string[] }>('POST', '/v1/rollback', {
              body: { revision: e.revision },
            });
            fill(
              status,
              h(
                'span',
                { class: 'ok', 'data-test': 'rolled-back' },
                `rolled back to revision ${e.revision}: ${done.body.changed.join(', ') || 'nothing to change'} (now revision ${done.body.revision})`,
              ),
            );
            await refresh();
          } catch (error) {
            fill(status, h('span', { class: 'error' }, (error as Error).message));
            restore.disabled = false;
          }
        });
        return h(
          'details',
          { class: 'entry', 'data-test': 'entry', 'data-revision': e.revision, open: e.revision === newest },
          h(
            'summary',
            {},
            h('strong', {}, `revision ${e.revision}`),
            ` · ${new Date(e.at).toLocaleString()} · ${e.author ? `by ${e.author.name}` : 'by the config service'} · `,
            e.changes
              .filter(isDocChange)
              .map((c) => `${c.op === 'put' ? 'wrote' : 'deleted'} ${keyOf(c)}`)
              .join(', '),
            ' ',
            restore,
          ),
          ...e.changes.filter(isDocChange).map((c) => {
            const key = keyOf(c);
            const prev = before(entries, key, e.revision);
            const created = c.op === 'put' && c.document.createRevision === e.revision;
            const after = c.op === 'put' ? sortedJson(c.document.spec) : '';
            return h(
              'div',
              { class: 'change' },
              h('h4', {}, key, created ? ' (created)' : c.op === 'delete' ? ' (deleted)' : ''),
              !prev.known && !created
                ? h('p', { class: 'muted' }, 'its earlier version is older than the history shown')
                : null,
              diffView(withContext(diffLines(prev.known ? sortedJson(prev.spec) : '', after))),
            );
          }),
        );
      }),
    );
  }
  return { element, refresh };
}
