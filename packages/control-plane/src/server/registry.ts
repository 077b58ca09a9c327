/**
 * Registry routes: instances register with a lease, heartbeats renew it, expiry (checked by a
 * reaper on every replica; the store's compare-and-set lets only one of them win) and graceful
 * deregistration remove them. Registration and removal are revisions seen by watchers; heartbeats
 * are not, so a large fleet does not flood the watch streams.
 */
import { checkName, formatIssues, InstanceRegistration, LEASE_LIMITS } from '@weft/core/config';
import type { FastifyInstance } from 'fastify';
import type { Store } from '../store/store.ts';
import { authorOf } from './auth.ts';
import { canonical } from './documents.ts';
import { invalid, notFound } from './http-errors.ts';

function serviceParam(service: string): string {
  const reason = checkName(service);
  if (reason) throw invalid([`service: ${reason}`], 'invalid service name');
  return service;
}

export interface RegistryOptions {
  /** Wall-clock milliseconds (leases survive restarts). */
  now: () => number;
}

export function registryRoutes(app: FastifyInstance, store: Store, { now }: RegistryOptions): void {
  app.get('/v1/services', async () => {
    const counts = new Map<string, number>();
    for (const { instance } of await store.listInstances())
      counts.set(instance.service, (counts.get(instance.service) ?? 0) + 1);
    return {
      revision: await store.revision(),
      services: [...counts].map(([name, instances]) => ({ name, instances })),
    };
  });

  app.get('/v1/services/:service/endpoints', async (req) => {
    const service = serviceParam((req.params as { service: string }).service);
    const instances = (await store.listInstances(service)).map((s) => s.instance);
    return { revision: await store.revision(), service, instances };
  });

  app.post('/v1/services/:service/instances', async (req, reply) => {
    const service = serviceParam((req.params as { service: string }).service);
    const parsed = InstanceRegistration.safeParse(req.body);
    if (!parsed.success) throw invalid(formatIssues(parsed.error), 'invalid registration');
    const r = parsed.data;
    const ttlMs = r.ttlMs ?? LEASE_LIMITS.defaultTtlMs;
    const id = r.id ?? (r.address.includes(':') ? `[${r.address}]:${r.port}` : `${r.address}:${r.port}`);
    const instance = {
      service,
      id,
      address: r.address,
      port: r.port,
      labels: r.labels ?? {},
      ...(r.weight === undefined ? {} : { weight: r.weight }),
      ttlMs,
    };
    const expiresAt = now() + ttlMs;
    const existing = await store.getInstance(service, id);
    if (existing) {
      const { revision: _r, ...same } = existing.instance;
      // Re-registering an identical instance only renews its lease: watchers see nothing new.
      if (canonical(same) === canonical(instance) && (await store.heartbeat(service, id, expiresAt)))
        return { revision: existing.instance.revision, instance: existing.instance };
    }
    const committed = await store.commit([{ op: 'register', instance, expiresAt }], [], authorOf(req));
    if (!committed.ok) throw new Error('unexpected conflict on registration');
    const change = committed.entry.changes[0];
    reply.code(201);
    return {
      revision: committed.entry.revision,
      instance: change?.op === 'register' ? change.instance : undefined,
    };
  });

  app.put('/v1/services/:service/instances/:id/lease', async (req) => {
    const { service, id } = req.params as { service: string; id: string };
    const existing = await store.getInstance(serviceParam(service), id);
    if (!existing || !(await store.heartbeat(service, id, now() + existing.instance.ttlMs)))
      throw notFound(
        `instance ${service}/${id} is not registered (its lease may have expired): register again`,
      );
    return { ttlMs: existing.instance.ttlMs };
  });

  app.delete('/v1/services/:service/instances/:id', async (req) => {
    const { service, id } = req.params as { service: string; id: string };
    const existing = await store.getInstance(serviceParam(service), id);
    if (!existing) throw notFound(`instance ${service}/${id} is not registered`);
    const committed = await store.commit(
      [{ op: 'deregister', service, id, reason: 'deregistered' }],
      [],
      authorOf(req),
    );
    if (!committed.ok) throw new Error('unexpected conflict on deregistration');
    return { revision: committed.entry.revision };
  });
}

/**
 * Removes instances whose lease has passed. Returns how many it removed. Leases get one more
 * lease length after this process started (`startedAt`): while the config service was down nobody
 * could renew them, and expiring the whole registry at start-up would empty every resolver until
 * the instances register again.
 */
export async function reapExpired(store: Store, now: number, startedAt = 0): Promise<number> {
  let removed = 0;
  for (const { instance, expiresAt } of await store.listInstances()) {
    if (expiresAt > now || startedAt + instance.ttlMs > now) continue;
    const r = await store.commit(
      [{ op: 'deregister', service: instance.service, id: instance.id, reason: 'expired' }],
      [{ type: 'lease', service: instance.service, id: instance.id, expiresAt }],
    );
    if (r.ok) removed++;
  }
  return removed;
}
