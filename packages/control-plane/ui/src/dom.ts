/** A few DOM helpers: elements from a tag, attributes and children; text is always set as text. */

type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | undefined | ((event: Event) => void)>;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    if (typeof value === 'function') el.addEventListener(key.replace(/^on/, ''), value);
    else if (value === true) el.setAttribute(key, '');
    else el.setAttribute(key, String(value));
  }
  append(el, children);
  return el;
}

export function append(el: Element, children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.append(typeof c === 'object' ? c : String(c));
  }
}

/** Replaces the children of `el`. */
export function fill(el: Element, ...children: Child[]): void {
  el.replaceChildren();
  append(el, children);
}

export const pct = (v: number | null | undefined, digits = 1) =>
  v === null || v === undefined ? '–' : `${(v * 100).toFixed(digits)}%`;
export const ms = (v: number | null | undefined) =>
  v === null || v === undefined ? '–' : v < 10 ? `${v.toFixed(1)} ms` : `${Math.round(v)} ms`;
export const rps = (v: number | null | undefined) =>
  v === null || v === undefined ? '–' : v < 10 ? `${v.toFixed(2)}/s` : `${v.toFixed(1)}/s`;

/** Health colour of a success rate: ok ≥ 99%, warn ≥ 95%, bad below, idle without traffic. */
export function health(successRate: number | null | undefined): 'ok' | 'warn' | 'bad' | 'idle' {
  if (successRate === null || successRate === undefined) return 'idle';
  if (successRate >= 0.99) return 'ok';
  if (successRate >= 0.95) return 'warn';
  return 'bad';
}

/** A modal confirmation: resolves true when the user confirms. */
export function confirmDialog(title: string, text: string, action: string): Promise<boolean> {
  return new Promise((resolve) => {
    const dialog = h(
      'dialog',
      { class: 'confirm' },
      h('h3', {}, title),
      h('p', {}, text),
      h(
        'div',
        { class: 'actions' },
        h('button', { type: 'button', 'data-test': 'cancel', onclick: () => close(false) }, 'Cancel'),
        h(
          'button',
          { type: 'button', class: 'danger', 'data-test': 'confirm', onclick: () => close(true) },
          action,
        ),
      ),
    );
    const close = (ok: boolean) => {
      dialog.close();
      dialog.remove();
      resolve(ok);
    };
    dialog.addEventListener('cancel', () => close(false));
    document.body.append(dialog);
    dialog.showModal();
  });
}
