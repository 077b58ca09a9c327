/**
 * The traffic routes: `POST /v1/traffic/reports` (processes send their summaries; any valid token,
 * and a service token may only report as its own service), `GET /v1/traffic` (the mesh's graph)
 * and `GET /v1/traffic/services/:service` (one service's golden metrics), both with
 * `?windowS=` (10–900, default 60). The GET views come from the traffic source: the embedded window
 * by default, or a Prometheus server.
 */
import { TrafficReport } from '@weft/core';
import { checkName, formatIssues } from '@weft/core/config';
import type { FastifyInstance } from 'fastify';
import { scopeOf, tokenOf } from '../server/auth.ts';
import { HttpError, invalid } from '../server/http-errors.ts';
import type { ServiceTraffic, TrafficGraph } from './views.ts';
import type { TrafficWindow } from './window.ts';

/** Where the GET views come from. */
export interface TrafficSource {
  readonly kind: string;
  graph(windowS: number): Promise<TrafficGraph> | TrafficGraph;
  service(service: string, windowS: number): Promise<ServiceTraffic> | ServiceTraffic;
}

export const WINDOW_S = { min: 10, max: 900, default: 60 } as const;

/** Largest report body in bytes (a full report of 10,000 rows fits). */
export const REPORT_BODY_LIMIT = 8 * 1024 * 1024;

function windowOf(query: unknown): number {
  const raw = (query as { windowS?: unknown } | undefined)?.windowS;
  if (raw === undefined) return WINDOW_S.default;
  const n = typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isInteger(n) || n < WINDOW_S.min || n > WINDOW_S.max)
    throw invalid([`windowS: must be an integer from ${WINDOW_S.min} to ${WINDOW_S.max}`], 'invalid query');
  return n;
}

export function trafficRoutes(app: FastifyInstance, window: TrafficWindow, source: TrafficSource): void {
  app.post('/v1/traffic/reports', { bodyLimit: REPORT_BODY_LIMIT }, async (req, reply) => {
    const parsed = TrafficReport.safeParse(req.body);
    if (!parsed.success) throw invalid(formatIssues(parsed.error), 'invalid traffic report');
    const record = tokenOf(req);
    const scope = record && scopeOf(record);
    if (scope !== undefined && scope !== parsed.data.reporter.service)
      throw new HttpError(
        403,
        'forbidden',
        `token "${record!.name}" is scoped to service "${scope}" and may not report for "${parsed.data.reporter.service}"`,
      );
    const refused = window.add(parsed.data);
    reply.code(202);
    return { accepted: parsed.data.rows.length - refused, refused };
  });

  /** A source that fails (Prometheus away) is the upstream's fault: 502, with its reason. */
  const ask = async <T>(what: () => Promise<T> | T): Promise<T> => {
    try {
      return await what();
    } catch (error) {
      if (error instanceof HttpError) throw error;
      throw new HttpError(
        502,
        'source_unavailable',
        `traffic source ${source.kind}: ${(error as Error).message}`,
      );
    }
  };

  app.get('/v1/traffic', async (req) => {
    const windowS = windowOf(req.query);
    return ask(() => source.graph(windowS));
  });

  app.get('/v1/traffic/services/:service', async (req) => {
    const { service } = req.params as { service: string };
    const reason = service === 'unknown' ? undefined : checkName(service);
    if (reason) throw invalid([`service: ${reason}`], 'invalid service name');
    const windowS = windowOf(req.query);
    return ask(() => source.service(service, windowS));
  });
}
