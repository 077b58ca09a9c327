/**
 * `weft rollout status [service]` and `weft rollout pause|resume|promote|abort <service>`: where a
 * Rollout stands (its step, the canary's weight, the analysed intervals, why it paused or failed)
 * and the operator's actions on it. The config service's driver does the work; these commands only
 * read its status and ask it to act (`/v1/rollouts…`).
 */
import { checkName, type IntervalMetrics, type RolloutInterval } from '@weft/core/config';
import { type Api, ApiError } from './api.ts';
import { type Output, UsageError } from './commands.ts';
import { CommandError } from './errors.ts';

export type RolloutCommand = 'pause' | 'resume' | 'promote' | 'abort';

/** A rollout as `GET /v1/rollouts/:service` returns it (the fields printed). */
interface View {
  service: string;
  revision: number;
  spec: {
    headerFirst?: { pauseS: number };
    stable: string;
    canary: string;
    steps: { weight: number; pauseS?: number }[];
    analysis: { failureLimit: number };
  };
  status: {
    phase: string;
    step: number;
    stepStartedAt: number;
    canaryWeight: number;
    failedIntervals: number;
    reason?: string;
    intervals: RolloutInterval[];
    current: boolean;
  } | null;
}

function serviceArg(service: string): string {
  const bad = checkName(service);
  if (bad) throw new UsageError(`${service}: ${bad}`);
  return service;
}

const rate = (m: IntervalMetrics) =>
  m.successRate === null
    ? 'no requests'
    : `${m.requests} req, ${Math.round(m.successRate * 10_000) / 100}%, p99 ${m.p99Ms ?? '-'} ms`;

/** The text of one rollout, for people. */
export function describeRollout(v: View): string {
  const { stable, canary } = v.spec;
  // The status counts the header-first phase as step 0, as the driver does.
  const steps = v.spec.headerFirst
    ? [{ weight: 0, pauseS: v.spec.headerFirst.pauseS }, ...v.spec.steps]
    : v.spec.steps;
  const headerOnly = v.spec.headerFirst !== undefined && v.status?.step === 0;
  const s = v.status;
  if (!s?.current)
    return `Rollout/${v.service}: pending (the config service starts it within a second or so)`;
  const step = steps[s.step];
  const lines = [
    `Rollout/${v.service}: ${s.phase}, step ${s.step + 1} of ${steps.length}: ${canary} ${s.canaryWeight}%, ${stable} ${100 - s.canaryWeight}%`,
    ...(headerOnly
      ? [`  header-first: only calls with "weft-route: ${v.service}=${canary}" reach ${canary}`]
      : []),
    `  step started ${new Date(s.stepStartedAt).toISOString()}${step?.pauseS ? `, pause ${step.pauseS} s` : ''}`,
    `  failed intervals: ${s.failedIntervals} (rollback at ${v.spec.analysis.failureLimit})`,
  ];
  if (s.reason) lines.push(`  reason: ${s.reason}`);
  if (s.intervals.length) {
    lines.push('  intervals (newest last):');
    for (const i of s.intervals.slice(-10))
      lines.push(
        `    ${new Date(i.to).toISOString()} step ${i.step + 1} ${i.result.padEnd(12)} ${canary}: ${rate(i.canary)}; ${stable}: ${rate(i.stable)}`,
      );
  }
  return lines.join('\n');
}

export async function rolloutStatus(request: Api, o: Output, service?: string): Promise<void> {
  if (service === undefined) {
    const { body } = await request('GET', '/v1/rollouts');
    const r = body as { rollouts: View[] };
    if (o.json) o.write(JSON.stringify(r, null, 2));
    else o.write(r.rollouts.length ? r.rollouts.map(describeRollout).join('\n\n') : 'no rollouts');
    return;
  }
  const body = await get(request, serviceArg(service));
  o.write(o.json ? JSON.stringify(body, null, 2) : describeRollout(body));
}

async function get(request: Api, service: string): Promise<View> {
  try {
    return (await request('GET', `/v1/rollouts/${encodeURIComponent(service)}`)).body as View;
  } catch (error) {
    throw notFound(error, service);
  }
}

function notFound(error: unknown, service: string): unknown {
  if (error instanceof ApiError && error.status === 404)
    return new CommandError('not_found', `no Rollout for service "${service}"`, {
      hint: 'create one with `weft apply -f rollout.yaml` (kind: Rollout, name: <service>)',
    });
  return error;
}

export async function rolloutAction(
  request: Api,
  o: Output,
  action: RolloutCommand,
  service: string,
): Promise<void> {
  const name = serviceArg(service);
  let body: View;
  try {
    body = (await request('POST', `/v1/rollouts/${encodeURIComponent(name)}/${action}`, {})).body as View;
  } catch (error) {
    if (error instanceof ApiError && error.status === 409) throw new CommandError('conflict', error.message);
    throw notFound(error, name);
  }
  o.write(o.json ? JSON.stringify(body, null, 2) : describeRollout(body));
}
