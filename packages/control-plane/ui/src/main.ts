/**
 * The dashboard's shell: login with a token, the navigation, a hash router (`#/`, `#/service/x`,
 * `#/switch`, `#/history`) and the poll that keeps the traffic pages live.
 */
import 'uplot/dist/uPlot.min.css';
import './style.css';
import { ApiError, api, get, session, type Whoami } from './api.ts';
import { fill, h } from './dom.ts';
import { graphPage } from './graph.ts';
import { historyPage } from './history.ts';
import { servicePage } from './service.ts';
import { switchSection } from './switch.ts';

/** How often the traffic pages re-read the traffic API, in ms. */
const POLL_MS = 2000;
const WINDOWS = [60, 300, 900];

const app = document.getElementById('app')!;
let me: Whoami | undefined;
let windowS = 60;
let timer: ReturnType<typeof setTimeout> | undefined;
/** Counts the pages shown: a poll of a page that is no longer shown stops. */
let shown = 0;

function loginView(message?: string): void {
  // No page polls behind the login form.
  shown++;
  if (timer) clearTimeout(timer);
  const input = h('input', {
    type: 'password',
    name: 'token',
    autocomplete: 'off',
    placeholder: 'weft_…',
    'data-test': 'token',
    'aria-label': 'token',
  });
  const error = h('p', { class: 'error', 'data-test': 'login-error' }, message ?? '');
  const form = h(
    'form',
    { class: 'login card', 'data-test': 'login' },
    h('h2', {}, 'Weft dashboard'),
    h('p', { class: 'muted' }, 'Log in with a token: a viewer token reads, an admin token may also change.'),
    input,
    h('button', { type: 'submit', 'data-test': 'login-submit' }, 'Log in'),
    error,
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const token = input.value.trim();
    try {
      me = (await api<Whoami>('GET', '/v1/whoami', { tokenOverride: token })).body;
      session.set(token);
      route();
    } catch (e) {
      fill(
        error,
        e instanceof ApiError && e.status === 401 ? 'That token was refused.' : String((e as Error).message),
      );
    }
  });
  fill(app, form);
  input.focus();
}

function shell(page: HTMLElement): void {
  const select = h(
    'select',
    { 'aria-label': 'window', 'data-test': 'window' },
    ...WINDOWS.map((w) => h('option', { value: w, selected: w === windowS }, `last ${w / 60} min`)),
  );
  select.addEventListener('change', () => {
    windowS = Number(select.value);
    route();
  });
  const nav = h(
    'header',
    {},
    h('h1', {}, 'Weft'),
    h(
      'nav',
      {},
      h('a', { href: '#/' }, 'Graph'),
      h('a', { href: '#/switch' }, 'Kill switch'),
      h('a', { href: '#/history' }, 'History'),
    ),
    select,
    h(
      'span',
      { class: 'who', 'data-test': 'who', 'data-role': me!.role },
      `${me!.name} (${me!.role}${me!.role === 'admin' ? '' : ', read only'})`,
    ),
    h(
      'button',
      {
        type: 'button',
        'data-test': 'logout',
        onclick: () => {
          session.clear();
          me = undefined;
          loginView();
        },
      },
      'Log out',
    ),
  );
  fill(app, nav, h('main', {}, page));
}

/** Shows the page of the current hash; the traffic pages poll until the hash changes. */
function route(): void {
  if (timer) clearTimeout(timer);
  if (!me) {
    loginView();
    return;
  }
  const canWrite = me.role === 'admin';
  const hash = location.hash || '#/';
  const service = /^#\/service\/(.+)$/.exec(hash);
  const page = service
    ? servicePage(decodeURIComponent(service[1]!), canWrite, () => windowS)
    : hash === '#/history'
      ? historyPage(canWrite)
      : hash === '#/switch'
        ? {
            element: h(
              'section',
              {},
              h('h2', {}, 'Kill switch'),
              switchSection('mesh', canWrite, () => {}),
            ),
            refresh: async () => {},
          }
        : graphPage(() => windowS);
  shell(page.element);
  const generation = ++shown;
  const poll = async () => {
    try {
      await page.refresh();
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) {
        session.clear();
        me = undefined;
        loginView('The session’s token is no longer valid.');
        return;
      }
      console.error(e);
    }
    if (generation === shown && !hash.startsWith('#/history') && !hash.startsWith('#/switch'))
      timer = setTimeout(poll, POLL_MS);
  };
  void poll();
}

/**
 * `#token=…` (the link the demo prints): logs in with it and drops it from the address bar (the
 * history entry is replaced, so the token stays in this tab's session only).
 */
async function loginFromLink(): Promise<boolean> {
  const fromLink = /^#token=([A-Za-z0-9_-]+)$/.exec(location.hash)?.[1];
  if (!fromLink) return false;
  history.replaceState(null, '', '#/');
  try {
    me = (await api<Whoami>('GET', '/v1/whoami', { tokenOverride: fromLink })).body;
    session.set(fromLink);
  } catch {
    session.clear();
    me = undefined;
  }
  return true;
}

async function start(): Promise<void> {
  if (!(await loginFromLink()) && session.token) {
    try {
      me = await get<Whoami>('/v1/whoami');
    } catch {
      session.clear();
    }
  }
  window.addEventListener('hashchange', () => {
    void loginFromLink().then(() => route());
  });
  route();
}

void start();
