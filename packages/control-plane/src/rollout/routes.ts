/**
 * The rollout routes: `GET /v1/rollouts` and `GET /v1/rollouts/:service` (each Rollout with the
 * status the driver keeps, any valid token) and `POST /v1/rollouts/:service/{pause,resume,promote,
 * abort}` (admin). An action that does not apply in the rollout's phase is a 409 saying why.
 */
import { checkName, type StoredDocument, type WriteAuthor } from '@weft/core/config';
import type { FastifyInstance } from 'fastify';
import { authorOf } from '../server/auth.ts';
import { HttpError, invalid, notFound } from '../server/http-errors.ts';
import type { Store } from '../store/store.ts';
import type { RolloutDriver } from './driver.ts';
import type { RolloutAction } from './machine.ts';

export const ROLLOUT_ACTIONS: readonly RolloutAction[] = ['pause', 'resume', 'promote', 'abort'];

/** One rollout as the API shows it: the user's document, and where it stands (null before the driver's first look). */
export interface RolloutView {
  service: string;
  revision: number;
  spec: StoredDocument<'Rollout'>['spec'];
  status: (StoredDocument<'RolloutStatus'>['spec'] & { revision: number; current: boolean }) | null;
}

function view(
  rollout: StoredDocument<'Rollout'>,
  status: StoredDocument<'RolloutStatus'> | undefined,
): RolloutView {
  return {
    service: rollout.name,
    revision: rollout.revision,
    spec: rollout.spec,
    // `current: false`: the status is of an earlier revision of the Rollout (the driver starts it again).
    status: status
      ? {
          ...status.spec,
          revision: status.revision,
          current: status.spec.rolloutRevision === rollout.revision,
        }
      : null,
  };
}

function serviceParam(params: unknown): string {
  const { service } = params as { service: string };
  const reason = checkName(service);
  if (reason) throw invalid([`service: ${reason}`], 'invalid service name');
  return service;
}

export function rolloutRoutes(app: FastifyInstance, store: Store, driver: RolloutDriver): void {
  async function one(service: string): Promise<RolloutView> {
    const rollout = (await store.getDocument('Rollout', service)) as StoredDocument<'Rollout'> | undefined;
    if (!rollout) throw notFound(`Rollout/${service} not found`);
    return view(
      rollout,
      (await store.getDocument('RolloutStatus', service)) as StoredDocument<'RolloutStatus'> | undefined,
    );
  }

  app.get('/v1/rollouts', async () => {
    const [rollouts, statuses] = await Promise.all([
      store.listDocuments('Rollout'),
      store.listDocuments('RolloutStatus'),
    ]);
    const byName = new Map(statuses.map((s) => [s.name, s as StoredDocument<'RolloutStatus'>]));
    return {
      driving: driver.leader,
      rollouts: (rollouts as StoredDocument<'Rollout'>[]).map((r) => view(r, byName.get(r.name))),
    };
  });

  app.get('/v1/rollouts/:service', async (req) => ({
    driving: driver.leader,
    ...(await one(serviceParam(req.params))),
  }));

  for (const action of ROLLOUT_ACTIONS)
    app.post(`/v1/rollouts/:service/${action}`, async (req) => {
      const service = serviceParam(req.params);
      const author: WriteAuthor = authorOf(req) ?? { tokenId: '', name: 'unknown' };
      const result = await driver.act(service, action, author);
      if (!result) throw notFound(`Rollout/${service} not found`);
      if (!result.ok) throw new HttpError(409, 'conflict', result.reason);
      return one(service);
    });
}
