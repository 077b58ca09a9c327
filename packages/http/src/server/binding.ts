/**
 * What HTTP tells the server stack: the semantic-convention names of the server span and the
 * duration histogram (`http.server.request.duration`), and how a refusal is answered (by the error's
 * code: 503 + `weft-rejected`, 504 + `weft-no-retry`, 403, 401, 500 — see replies.ts).
 */
import type { Attributes } from '@opentelemetry/api';
import type { ServerBinding, ServerCall } from '@weft/core';
import type { HttpServerCall } from './call.ts';
import { replyFor } from './replies.ts';

const NO_ATTRIBUTES: Attributes = {};

export const httpServerBinding: ServerBinding = {
  protocol: 'http',
  methodKind: 'verb',
  durationMetric: 'http.server.request.duration',
  rejectionAttributes: NO_ATTRIBUTES,
  spanName: (call) => call.method,
  spanAttributes: (call) => ({ 'http.request.method': call.method, 'url.path': pathOf(call.path) }),
  endAttributes(call: ServerCall): Attributes {
    const status = call.status as number;
    const attributes: Attributes = {
      'http.request.method': call.method,
      'http.response.status_code': status,
    };
    const route = call.route;
    if (route !== undefined) attributes['http.route'] = route;
    if (call.outcome === 'cancelled') attributes['error.type'] = 'aborted';
    else if (status >= 500) attributes['error.type'] = String(status);
    return attributes;
  },
  endSpanName(call) {
    const route = call.route;
    return route === undefined ? undefined : `${call.method} ${route}`;
  },
  reject(call, error) {
    const reply = replyFor(error);
    call.status = reply.status;
    (call as HttpServerCall).send(reply);
  },
};

function pathOf(url: string): string {
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}
