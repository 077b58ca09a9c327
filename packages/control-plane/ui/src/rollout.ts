/**
 * The service's `Rollout`, when it has one (`GET /v1/rollouts/<service>`): its steps with the
 * current one marked, the phase, the canary's weight, each analysed interval as the driver judged
 * it, and the operator's actions (admins only; the config service answers 409 with the reason when
 * an action does not apply in the phase, and that reason is shown). Redrawn on every poll, so the
 * view follows the driver live; hidden while the service has no Rollout.
 */
import { ApiError, api, getOptional } from './api.ts';
import { fill, h, ms, pct } from './dom.ts';

type Phase = 'progressing' | 'paused' | 'promoted' | 'failed' | 'aborted';
interface IntervalMetrics {
  requests: number;
  failures: number;
  successRate: number | null;
  p99Ms: number | null;
}
interface Interval {
  step: number;
  from: number;
  to: number;
  result: 'passed' | 'failed' | 'inconclusive';
  canary: IntervalMetrics;
  stable: IntervalMetrics;
  reason?: string;
}
/** A rollout as `GET /v1/rollouts/:service` answers it. */
export interface RolloutView {
  service: string;
  revision: number;
  spec: {
    stable: string;
    canary: string;
    steps: { weight: number; pauseS?: number }[];
    headerFirst?: { pauseS: number };
  };
  status: {
    phase: Phase;
    step: number;
    canaryWeight: number;
    reason?: string;
    intervals: Interval[];
    revision: number;
    /** False: the status is of an earlier revision of the Rollout, which the driver starts again. */
    current: boolean;
  } | null;
}

/** The actions, in the order of their buttons. */
export const ROLLOUT_ACTIONS = ['pause', 'resume', 'promote', 'abort'] as const;
type Action = (typeof ROLLOUT_ACTIONS)[number];

const PHASE_CLASS: Record<Phase, string> = {
  progressing: 'ok',
  paused: 'warn',
  promoted: 'ok',
  failed: 'bad',
  aborted: 'bad',
};
const RESULT_CLASS = { passed: 'ok', failed: 'bad', inconclusive: 'idle' } as const;

/** The steps the driver goes through: the header-only phase (when there is one) first. */
export function rolloutSteps(spec: RolloutView['spec']): { label: string; pauseS?: number }[] {
  return [
    ...(spec.headerFirst
      ? [{ label: 'header override only (weight 0)', pauseS: spec.headerFirst.pauseS }]
      : []),
    ...spec.steps.map((s) => ({ label: `${s.weight}% to ${spec.canary}`, pauseS: s.pauseS })),
  ];
}

const time = (t: number) => new Date(t).toLocaleTimeString();

export interface RolloutSection {
  readonly element: HTMLElement;
  refresh(): Promise<void>;
}

/** `onWritten` is called after an action (it changes the Route's weights). */
export function rolloutSection(service: string, canWrite: boolean, onWritten: () => void): RolloutSection {
  const enc = encodeURIComponent(service);
  const message = h('div', {});
  const body = h('div', {});
  const element = h(
    'section',
    { class: 'card rollout', 'data-test': 'rollout', hidden: true },
    h('h3', {}, `Rollout: Rollout/${service}`),
    message,
    body,
  );
  let acting = false;

  async function act(action: Action): Promise<void> {
    acting = true;
    try {
      await api('POST', `/v1/rollouts/${enc}/${action}`);
      fill(message);
      onWritten();
    } catch (error) {
      const text =
        error instanceof ApiError && error.status === 409
          ? `Not done: ${error.message}`
          : (error as Error).message;
      fill(message, h('p', { class: 'error', 'data-test': 'rollout-error' }, text));
    } finally {
      acting = false;
    }
    await refresh();
  }

  async function refresh(): Promise<void> {
    const view = await getOptional<RolloutView>(`/v1/rollouts/${enc}`);
    element.hidden = !view;
    if (!view) {
      fill(body);
      return;
    }
    const status = view.status?.current ? view.status : null;
    const steps = rolloutSteps(view.spec);
    const buttons = ROLLOUT_ACTIONS.map((action) =>
      h(
        'button',
        {
          type: 'button',
          class: action === 'abort' ? 'danger' : '',
          disabled: !canWrite || acting,
          title: canWrite ? '' : 'a viewer token may not act on a rollout',
          'data-test': `rollout-${action}`,
          onclick: () => void act(action),
        },
        action,
      ),
    );
    fill(
      body,
      h(
        'p',
        {
          class: `state ${status ? PHASE_CLASS[status.phase] : 'idle'}`,
          'data-test': 'rollout-phase',
          'data-phase': status?.phase ?? 'pending',
        },
        status
          ? `${status.phase.toUpperCase()} · step ${status.step + 1} of ${steps.length} · ${view.spec.canary} at ${status.canaryWeight}%, ${view.spec.stable} at ${100 - status.canaryWeight}%`
          : 'not started yet: the driver starts it at its next look',
        status?.reason
          ? h('span', { class: 'muted', 'data-test': 'rollout-reason' }, ` — ${status.reason}`)
          : null,
      ),
      h('div', { class: 'actions' }, ...buttons),
      h(
        'table',
        { 'data-test': 'rollout-steps' },
        h('tr', {}, ...['step', 'canary', 'holds'].map((c) => h('th', {}, c))),
        ...steps.map((s, i) =>
          h(
            'tr',
            {
              'data-test': 'rollout-step',
              'data-step': i,
              'data-current': status?.step === i ? 'true' : undefined,
              class: status?.step === i ? 'current' : '',
            },
            h('td', {}, status?.step === i ? `▶ ${i + 1}` : String(i + 1)),
            h('td', {}, s.label),
            h('td', { class: 'num' }, s.pauseS === undefined ? '–' : `${s.pauseS} s`),
          ),
        ),
      ),
      h('h4', {}, 'Analysis, newest first'),
      status?.intervals.length
        ? h(
            'table',
            { 'data-test': 'rollout-intervals' },
            h(
              'tr',
              {},
              ...[
                'interval',
                'step',
                'canary success',
                'stable success',
                'canary p99',
                'stable p99',
                'canary req.',
                'stable req.',
                'result',
                'reason',
              ].map((c) => h('th', {}, c)),
            ),
            ...[...status.intervals]
              .reverse()
              .map((iv) =>
                h(
                  'tr',
                  { 'data-test': 'rollout-interval', 'data-result': iv.result, 'data-step': iv.step },
                  h('td', { class: 'mono' }, `${time(iv.from)}–${time(iv.to)}`),
                  h('td', { class: 'num' }, iv.step + 1),
                  h('td', { class: 'num' }, pct(iv.canary.successRate, 2)),
                  h('td', { class: 'num' }, pct(iv.stable.successRate, 2)),
                  h('td', { class: 'num' }, ms(iv.canary.p99Ms)),
                  h('td', { class: 'num' }, ms(iv.stable.p99Ms)),
                  h('td', { class: 'num' }, iv.canary.requests),
                  h('td', { class: 'num' }, iv.stable.requests),
                  h('td', { class: RESULT_CLASS[iv.result] }, iv.result),
                  h('td', { class: 'muted' }, iv.reason ?? ''),
                ),
              ),
          )
        : h('p', { class: 'muted' }, 'no interval analysed yet'),
    );
  }
  return { element, refresh };
}
