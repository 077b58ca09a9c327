/**
 * The rollout driver: runs in the config service, and on every tick reads each `Rollout`, its
 * `RolloutStatus` and the service's `Route`, asks the state machine (machine.ts) what comes next
 * and writes it. The status and the Route weights it goes with are one commit, checked against the
 * revisions read, so a restart resumes at the step the store shows, and a replica that lost the
 * lead (or an operator's write meanwhile) can never overwrite a newer state: its commit fails.
 * With a shared store (etcd) only the replica that won the election drives; the operator's actions
 * (pause, resume, promote, abort) are accepted by any replica, with the same checks.
 */
import {
  type RolloutStatusSpec,
  type StoredDocument,
  splitSpec,
  validateDocument,
  type WriteAuthor,
} from '@weft/core/config';
import type { Expectation, Leadership, PendingChange, Store } from '../store/store.ts';
import { subsetTraffic } from '../traffic/subsets.ts';
import type { TrafficWindow } from '../traffic/window.ts';
import {
  type ActionResult,
  act,
  type Decision,
  decide,
  type Observation,
  type RolloutAction,
} from './machine.ts';

/** The author of every revision the driver writes. */
export const ROLLOUT_AUTHOR: WriteAuthor = { tokenId: 'rollout', name: 'rollout' };

export interface RolloutDriverOptions {
  readonly store: Store;
  readonly window: TrafficWindow;
  /** Wall clock in ms. Defaults to `Date.now`. */
  readonly now?: () => number;
  /** How often rollouts are looked at, in ms. Defaults to 1000. */
  readonly tickMs?: number;
  /** Lease of the driver's election among replicas, in seconds (a killed leader is replaced after it). Defaults to 10. */
  readonly leaseS?: number;
  readonly onError?: (error: unknown) => void;
}

export const ROLLOUT_DRIVER_DEFAULTS = { tickMs: 1000, leaseS: 10 } as const;

export interface RolloutDriver {
  /** True while this process drives (always, without a shared store). */
  readonly leader: boolean;
  /** Applies an operator's action now, recorded as written by `author`; undefined when there is no such Rollout. */
  act(service: string, action: RolloutAction, author: WriteAuthor): Promise<ActionResult | undefined>;
  stop(): Promise<void>;
}

export function startRolloutDriver(options: RolloutDriverOptions): RolloutDriver {
  const { store, window } = options;
  const now = options.now ?? Date.now;
  const tickMs = options.tickMs ?? ROLLOUT_DRIVER_DEFAULTS.tickMs;
  const leadership: Leadership | undefined = store.elect?.(
    'rollout-driver',
    options.leaseS ?? ROLLOUT_DRIVER_DEFAULTS.leaseS,
  );
  const onError = options.onError ?? (() => {});
  // Ticks and actions of this process run one at a time.
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(task: () => Promise<T>): Promise<T> => {
    const run = queue.then(task, task);
    queue = run.catch(() => {});
    return run;
  };

  async function observe(rollout: StoredDocument<'Rollout'>): Promise<Observation> {
    const [status, route] = await Promise.all([
      store.getDocument('RolloutStatus', rollout.name) as Promise<
        StoredDocument<'RolloutStatus'> | undefined
      >,
      store.getDocument('Route', rollout.name) as Promise<StoredDocument<'Route'> | undefined>,
    ]);
    return {
      rollout,
      status,
      route,
      now: now(),
      traffic: (from, to) => subsetTraffic(window, rollout.name, from, to),
    };
  }

  /** Writes a decision; false when something changed since it was read (the next tick sees it). */
  async function write(o: Observation, d: Decision, author: WriteAuthor): Promise<boolean> {
    const name = o.rollout.name;
    const changes: PendingChange[] = [
      { op: 'put', kind: 'RolloutStatus', name, spec: d.status satisfies RolloutStatusSpec },
    ];
    const expectations: Expectation[] = [
      { type: 'document', kind: 'Rollout', name, revision: o.rollout.revision },
      { type: 'document', kind: 'RolloutStatus', name, revision: o.status?.revision ?? 0 },
    ];
    if (d.canaryWeight !== undefined && o.route) {
      const { stable, canary } = o.rollout.spec;
      const { spec } = splitSpec(o.route.spec, [
        { subset: stable, weight: 100 - d.canaryWeight },
        { subset: canary, weight: d.canaryWeight },
      ]);
      const checked = validateDocument({
        kind: 'Route',
        name,
        spec: d.overrides ? { ...spec, overrides: true } : spec,
      });
      if (!checked.ok) {
        const reason = `Route/${name} would be invalid with these weights: ${checked.issues.join('; ')}`;
        return write(o, { status: { ...d.status, phase: 'failed', reason } }, author);
      }
      changes.push({ op: 'put', kind: 'Route', name, spec: checked.document.spec });
      expectations.push({ type: 'document', kind: 'Route', name, revision: o.route.revision });
    }
    const result = await store.commit(changes, expectations, author);
    return result.ok;
  }

  async function tick(): Promise<void> {
    if (leadership && !leadership.leader) return;
    const rollouts = (await store.listDocuments('Rollout')) as StoredDocument<'Rollout'>[];
    for (const rollout of rollouts) {
      const o = await observe(rollout);
      const d = decide(o);
      if (d) await write(o, d, ROLLOUT_AUTHOR);
    }
    // A status whose Rollout was deleted goes with it.
    const names = new Set(rollouts.map((r) => r.name));
    for (const s of await store.listDocuments('RolloutStatus'))
      if (!names.has(s.name))
        await store.commit(
          [{ op: 'delete', kind: 'RolloutStatus', name: s.name }],
          [{ type: 'document', kind: 'RolloutStatus', name: s.name, revision: s.revision }],
          ROLLOUT_AUTHOR,
        );
  }

  let ticking = false;
  const timer = setInterval(() => {
    if (ticking) return;
    ticking = true;
    serial(tick)
      .catch(onError)
      .finally(() => {
        ticking = false;
      });
  }, tickMs);
  timer.unref();

  return {
    get leader() {
      return leadership ? leadership.leader : true;
    },
    act: (service, action, author) =>
      serial(async () => {
        // A write that loses a race with the driver's tick is tried again on what it wrote.
        for (let attempt = 0; attempt < 5; attempt++) {
          const rollout = (await store.getDocument('Rollout', service)) as
            | StoredDocument<'Rollout'>
            | undefined;
          if (!rollout) return undefined;
          const o = await observe(rollout);
          const result = act(action, o, author.name);
          if (!result.ok) return result;
          if (await write(o, result.decision, author)) return result;
        }
        return { ok: false, reason: 'the rollout kept changing while this action was applied; try again' };
      }),
    async stop() {
      clearInterval(timer);
      await queue;
      await leadership?.close();
    },
  };
}
