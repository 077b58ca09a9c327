/** The params of roles `deadline` and `attempt`, declared once (see stack/params.ts). */
import { z } from 'zod';
import { defaultsOf, type ParamSpecs, param } from '../stack/params.ts';

export interface DeadlineParams {
  /**
   * Total time for a call in ms, retries and the response body included; 0 for none (only per-call
   * and inherited deadlines). Defaults to 15000: a call to an endpoint that hangs must end by itself
   * even where nobody set a deadline, and 15 s is Envoy's default route timeout, long enough for
   * ordinary requests and uploads. Long-lived gRPC streams are exempt; an HTTP response streamed for
   * longer (Server-Sent Events, long polling) needs `timeoutMs: 0` or a longer per-call timeout.
   */
  timeoutMs: number;
}

export const DEADLINE_PARAMS: ParamSpecs<DeadlineParams> = {
  timeoutMs: param(
    z.number().int().min(0).max(86_400_000),
    15_000,
    "Total time for a call, retries and body included, in ms; 0 = only per-call and inherited deadlines. 15 s is Envoy's default route timeout, so a hung endpoint never holds a call forever; long-lived gRPC streams are exempt.",
    'timeoutMs',
  ),
};

export const DEADLINE_DEFAULTS: DeadlineParams = defaultsOf(DEADLINE_PARAMS);

export interface AttemptParams {
  /** Time for one attempt's response head in ms; 0 for none. Defaults to 0. */
  perTryTimeoutMs: number;
}

export const ATTEMPT_PARAMS: ParamSpecs<AttemptParams> = {
  perTryTimeoutMs: param(
    z.number().int().min(0).max(86_400_000),
    0,
    'Time for one attempt (to the response head) in ms; 0 = none, the adaptive per-try timeout applies.',
    'perTryTimeoutMs',
  ),
};

export const ATTEMPT_DEFAULTS: AttemptParams = defaultsOf(ATTEMPT_PARAMS);
