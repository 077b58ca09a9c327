/**
 * The client's view of the config service: documents and registry instances at one revision, with
 * O(1) lookups for the data plane. Specs are validated again on arrival (the client trusts no
 * input); an invalid one is skipped and reported, keeping the previous value. A snapshot or entry
 * of the wrong shape is refused whole before anything changes; a malformed instance, document or
 * change inside one is skipped and reported.
 */

import type { AuthorizationPolicySpec } from '../authz/authz-schema.ts';
import type { Endpoint } from '../endpoint/endpoint.ts';
import type { PeerAuthenticationSpec } from '../mtls/peer-authentication-schema.ts';
import type { RolloutSpec } from '../rollout/rollout-schema.ts';
import type { RouteSpec } from '../route/route-schema.ts';
import type { TelemetrySpec } from '../telemetry/telemetry-schema.ts';
import type { TrafficSwitchSpec } from '../traffic/switch-schema.ts';
import { DOCUMENT_KINDS, type StoredDocument } from './document.ts';
import { type DestinationPolicy, formatIssues } from './policy.ts';
import type { Instance, LogEntry, Snapshot, TrustBundle } from './protocol.ts';
import {
  changeIssue,
  checkLogEntry,
  checkSnapshot,
  documentIssue,
  instanceIssue,
  trustBundleIssue,
} from './wire-check.ts';

const toEndpoint = (i: Instance): Endpoint => ({
  address: i.address,
  port: i.port,
  labels: i.labels,
  ...(i.weight === undefined ? {} : { weight: i.weight }),
});

export class ConfigState {
  storeId = '';
  revision = 0;
  readonly #documents = new Map<string, StoredDocument>();
  readonly #policies = new Map<string, DestinationPolicy>();
  readonly #routes = new Map<string, RouteSpec>();
  readonly #switches = new Map<string, TrafficSwitchSpec>();
  readonly #authorization = new Map<string, AuthorizationPolicySpec>();
  readonly #peerAuthentication = new Map<string, PeerAuthenticationSpec>();
  readonly #telemetry = new Map<string, TelemetrySpec>();
  readonly #rollouts = new Map<string, RolloutSpec>();
  readonly #instances = new Map<string, Map<string, Instance>>();
  readonly #endpoints = new Map<string, readonly Endpoint[]>();
  /** Problems found in received documents (`kind/name: path: reason`), newest last. */
  readonly problems: string[] = [];
  #trustBundle: TrustBundle | undefined;

  /** The mesh's trust bundle, once the config service has sent one. */
  trustBundle(): TrustBundle | undefined {
    return this.#trustBundle;
  }

  policy(destination: string): DestinationPolicy | undefined {
    return this.#policies.get(destination);
  }

  policies(): ReadonlyMap<string, DestinationPolicy> {
    return this.#policies;
  }

  /** The validated `Route` of a destination service, if it has one. */
  route(destination: string): RouteSpec | undefined {
    return this.#routes.get(destination);
  }

  routes(): ReadonlyMap<string, RouteSpec> {
    return this.#routes;
  }

  /** The validated `TrafficSwitch` of `name` (`mesh` or a service), if there is one. */
  trafficSwitch(name: string): TrafficSwitchSpec | undefined {
    return this.#switches.get(name);
  }

  trafficSwitches(): ReadonlyMap<string, TrafficSwitchSpec> {
    return this.#switches;
  }

  /** The validated `PeerAuthentication` of `name` (`mesh` or a service), if there is one. */
  peerAuthentication(name: string): PeerAuthenticationSpec | undefined {
    return this.#peerAuthentication.get(name);
  }

  peerAuthentications(): ReadonlyMap<string, PeerAuthenticationSpec> {
    return this.#peerAuthentication;
  }

  /** The validated `Rollout` of a destination service, if it has one. */
  rollout(destination: string): RolloutSpec | undefined {
    return this.#rollouts.get(destination);
  }

  /** The validated `AuthorizationPolicy` documents, by document name. */
  authorizationPolicies(): ReadonlyMap<string, AuthorizationPolicySpec> {
    return this.#authorization;
  }

  /** The validated `Telemetry` of `name` (`mesh` or a service), if there is one. */
  telemetry(name: string): TelemetrySpec | undefined {
    return this.#telemetry.get(name);
  }

  telemetries(): ReadonlyMap<string, TelemetrySpec> {
    return this.#telemetry;
  }

  /** The registered endpoints of a service, or undefined when it has none. */
  endpoints(service: string): readonly Endpoint[] | undefined {
    let cached = this.#endpoints.get(service);
    if (cached === undefined) {
      const set = this.#instances.get(service);
      if (!set || set.size === 0) return undefined;
      cached = [...set.values()].map(toEndpoint);
      this.#endpoints.set(service, cached);
    }
    return cached;
  }

  /** Services that have at least one instance. */
  services(): string[] {
    return [...this.#instances.keys()];
  }

  snapshot(): Snapshot {
    return {
      storeId: this.storeId,
      revision: this.revision,
      documents: [...this.#documents.values()],
      instances: [...this.#instances.values()].flatMap((m) => [...m.values()]),
      ...(this.#trustBundle ? { trustBundle: this.#trustBundle } : {}),
    };
  }

  /** Replaces everything with `snap`; throws (changing nothing) when it is not a snapshot. */
  load(input: Snapshot): void {
    const snap = checkSnapshot(input);
    this.storeId = snap.storeId;
    this.revision = snap.revision;
    this.#documents.clear();
    this.#policies.clear();
    this.#routes.clear();
    this.#switches.clear();
    this.#authorization.clear();
    this.#telemetry.clear();
    this.#peerAuthentication.clear();
    this.#rollouts.clear();
    this.#instances.clear();
    this.#endpoints.clear();
    for (const d of snap.documents) {
      const issue = documentIssue(d);
      if (issue) this.#problem(`snapshot document skipped: ${issue}`);
      else this.#put(d);
    }
    for (const i of snap.instances) this.#register(i);
    // A snapshot without a bundle (a service without a CA) clears it; a malformed one keeps the last.
    if (snap.trustBundle === undefined) this.#trustBundle = undefined;
    else this.#setBundle(snap.trustBundle, 'snapshot');
  }

  /**
   * Applies one revision; false when it is not newer than the current one. Throws (changing
   * nothing) when it is not a log entry.
   */
  apply(input: LogEntry): boolean {
    const entry = checkLogEntry(input);
    if (entry.revision <= this.revision) return false;
    for (const c of entry.changes) {
      const issue = changeIssue(c);
      if (issue) {
        this.#problem(`revision ${entry.revision}: change skipped: ${issue}`);
        continue;
      }
      if (c.op === 'put') this.#put(c.document);
      else if (c.op === 'delete') {
        this.#documents.delete(`${c.kind}/${c.name}`);
        if (c.kind === 'DestinationPolicy') this.#policies.delete(c.name);
        else if (c.kind === 'Route') this.#routes.delete(c.name);
        else if (c.kind === 'TrafficSwitch') this.#switches.delete(c.name);
        else if (c.kind === 'AuthorizationPolicy') this.#authorization.delete(c.name);
        else if (c.kind === 'Rollout') this.#rollouts.delete(c.name);
        else if (c.kind === 'PeerAuthentication') this.#peerAuthentication.delete(c.name);
        else if (c.kind === 'Telemetry') this.#telemetry.delete(c.name);
      } else if (c.op === 'register') this.#register(c.instance);
      else if (c.op === 'bundle') this.#setBundle(c.bundle, `revision ${entry.revision}`);
      else {
        const set = this.#instances.get(c.service);
        if (set?.delete(c.id)) {
          if (set.size === 0) this.#instances.delete(c.service);
          this.#endpoints.delete(c.service);
        }
      }
    }
    this.revision = entry.revision;
    return true;
  }

  #put(d: StoredDocument): void {
    const schema = DOCUMENT_KINDS[d.kind];
    if (!schema) {
      this.#problem(`${d.kind}/${d.name}: unsupported kind, ignored`);
      return;
    }
    const parsed = schema.safeParse(d.spec);
    if (!parsed.success) {
      for (const issue of formatIssues(parsed.error, 'spec')) this.#problem(`${d.kind}/${d.name}: ${issue}`);
      return;
    }
    this.#documents.set(`${d.kind}/${d.name}`, d);
    if (d.kind === 'DestinationPolicy') this.#policies.set(d.name, parsed.data as DestinationPolicy);
    else if (d.kind === 'Route') this.#routes.set(d.name, parsed.data as RouteSpec);
    else if (d.kind === 'TrafficSwitch') this.#switches.set(d.name, parsed.data as TrafficSwitchSpec);
    else if (d.kind === 'AuthorizationPolicy')
      this.#authorization.set(d.name, parsed.data as AuthorizationPolicySpec);
    else if (d.kind === 'Rollout') this.#rollouts.set(d.name, parsed.data as RolloutSpec);
    else if (d.kind === 'PeerAuthentication')
      this.#peerAuthentication.set(d.name, parsed.data as PeerAuthenticationSpec);
    else if (d.kind === 'Telemetry') this.#telemetry.set(d.name, parsed.data as TelemetrySpec);
  }

  #setBundle(bundle: TrustBundle, where: string): void {
    const issue = trustBundleIssue(bundle);
    if (issue) this.#problem(`${where}: trust bundle skipped: ${issue}`);
    else this.#trustBundle = bundle;
  }

  #register(i: Instance): void {
    const issue = instanceIssue(i);
    if (issue) {
      const where = typeof i === 'object' && i !== null ? `${String(i.service)}/${String(i.id)}` : 'instance';
      this.#problem(`${where}: skipped: ${issue}`);
      return;
    }
    let set = this.#instances.get(i.service);
    if (!set) {
      set = new Map();
      this.#instances.set(i.service, set);
    }
    set.set(i.id, i);
    this.#endpoints.delete(i.service);
  }

  #problem(text: string): void {
    this.problems.push(text);
    if (this.problems.length > 20) this.problems.shift();
  }
}
