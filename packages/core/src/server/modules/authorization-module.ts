import type { Attributes } from '@opentelemetry/api';
import { type AuthzDenial, CompiledAuthorization, selectPolicies } from '../../authz/authz-engine.ts';
import type { AuthorizationPolicySpec } from '../../authz/authz-schema.ts';
import { diagnostics } from '../../telemetry/diagnostics.ts';
import type { ServerBinding, ServerModule, ServerService } from '../binding.ts';
import type { ServerCall } from '../call.ts';
import type { ServerInstruments } from '../instruments.ts';

/** Where a server reads its live `AuthorizationPolicy` documents: a `ConfigClient` is one. */
export interface AuthorizationPolicySource {
  /** The config revision; the server recompiles its policies when it moves. */
  readonly revision: number;
  /** The validated `AuthorizationPolicy` documents, by document name. */
  authorizationPolicies(): ReadonlyMap<string, AuthorizationPolicySpec>;
}

/** What the `authorization` module decides with (the server's `service`, `config` and `trustDomain`). */
export interface ServerAuthorizationSettings {
  readonly service: string;
  readonly config: AuthorizationPolicySource;
  readonly trustDomain: string;
}

/** Most distinct (policy, reason) attribute sets kept for the denial metric. */
const MAX_ATTRIBUTE_SETS = 256;

class AuthorizationLayer {
  readonly service: ServerService;
  readonly #settings: ServerAuthorizationSettings;
  readonly #instruments: ServerInstruments;
  readonly #binding: ServerBinding;
  readonly #grpc: boolean;
  readonly #attributes = new WeakMap<AuthzDenial, Attributes>();
  #attributeSets = 0;
  #compiled: CompiledAuthorization;
  #revision: number;

  constructor(
    next: ServerService,
    settings: ServerAuthorizationSettings,
    instruments: ServerInstruments,
    binding: ServerBinding,
  ) {
    this.#settings = settings;
    this.#instruments = instruments;
    this.#binding = binding;
    this.#grpc = binding.methodKind === 'rpc';
    this.#revision = settings.config.revision;
    this.#compiled = this.#compile();
    this.service = (call) => {
      // Live: a new config revision is looked at by the next call (a number compare otherwise).
      if (settings.config.revision !== this.#revision) this.#refresh();
      const compiled = this.#compiled;
      if (!compiled.empty) {
        const denial = compiled.decide(call, this.#grpc);
        if (denial !== undefined) {
          this.#record(call, denial);
          throw denial;
        }
      }
      next(call);
    };
  }

  #compile(): CompiledAuthorization {
    const { config, service, trustDomain } = this.#settings;
    return new CompiledAuthorization(selectPolicies(config.authorizationPolicies(), service), trustDomain);
  }

  #refresh(): void {
    this.#revision = this.#settings.config.revision;
    const selected = selectPolicies(this.#settings.config.authorizationPolicies(), this.#settings.service);
    const before = this.#compiled.sources;
    // Most revisions (registrations, other documents) leave this server's policies as they were.
    if (selected.length === before.length && selected.every(([, spec], i) => spec === before[i])) return;
    this.#compiled = new CompiledAuthorization(selected, this.#settings.trustDomain);
  }

  #record(call: ServerCall, denial: AuthzDenial): void {
    let attributes = this.#attributes.get(denial);
    if (attributes === undefined) {
      attributes = {
        'weft.authz.policy': denial.policy,
        'weft.authz.reason': denial.authzReason,
        ...this.#binding.rejectionAttributes,
      };
      if (this.#attributeSets < MAX_ATTRIBUTE_SETS) {
        this.#attributes.set(denial, attributes);
        this.#attributeSets++;
      }
    }
    this.#instruments.authzDenied.add(1, attributes);
    if (diagnostics.authzDenied.hasSubscribers) {
      const q = call.path.indexOf('?');
      diagnostics.authzDenied.publish({
        service: this.#settings.service,
        policy: denial.policy,
        reason: denial.authzReason,
        peer: call.peer?.spiffeId,
        method: call.method,
        path: q < 0 ? call.path : call.path.slice(0, q),
      });
    }
  }
}

/**
 * Role `authorization`: decides, before telemetry and the handler, whether the caller may make the
 * call, by the live `AuthorizationPolicy` documents that select the server (see
 * `CompiledAuthorization`): a denied call gets `WEFT_PERMISSION_DENIED` (HTTP 403, gRPC
 * PERMISSION_DENIED, both with `weft-no-retry`), is counted on `weft.server.authz.denied` by policy
 * and reason, and published on `weft:server:authz-denied`. The caller's identity is the verified
 * certificate's (`call.peer`), never a header. It sits after admission (a denial should not cost
 * more than a shed). Without the server's `service` and `config` options it is an empty slot that
 * costs nothing. Replace it by role to authorize another way.
 */
export function serverAuthorizationModule(): ServerModule {
  return {
    role: 'authorization',
    description: 'AuthorizationPolicy documents of the server (live); empty without service and config',
    params: {},
    spec: {},
    make: (_params, next, env) =>
      env.authorization === undefined
        ? next
        : new AuthorizationLayer(next, env.authorization, env.instruments, env.binding).service,
  };
}
