/**
 * Config documents: the envelope every document shares (`{ kind, name, spec }`) and the table of
 * kinds with the schema of their spec. One source of truth for the config service, the CLI and the
 * clients. New kinds (routes, authorization policies) are added to {@link DOCUMENT_KINDS}.
 */
import { z } from 'zod';
import { AuthorizationPolicySpec } from '../authz/authz-schema.ts';
import { PeerAuthenticationSpec } from '../mtls/peer-authentication-schema.ts';
import { RolloutSpec } from '../rollout/rollout-schema.ts';
import { RolloutStatusSpec } from '../rollout/rollout-status.ts';
import { RouteSpec } from '../route/route-schema.ts';
import { TelemetrySpec } from '../telemetry/telemetry-schema.ts';
import { TrafficSwitchSpec } from '../traffic/switch-schema.ts';
import { serviceNameIssue } from './names.ts';
import { DestinationPolicy, formatIssues } from './policy.ts';

/** The spec schema of each document kind. */
export const DOCUMENT_KINDS = {
  /** How clients call one destination service; `name` is the destination service. */
  DestinationPolicy,
  /** How calls to one destination service are split, matched, mirrored and faulted; `name` is the destination service. */
  Route: RouteSpec,
  /** The kill switch: `name` is `mesh` (every call between services) or the service whose calls stop. */
  TrafficSwitch: TrafficSwitchSpec,
  /** Who may call one server (`spec.service`); any name. See docs/security.md. */
  AuthorizationPolicy: AuthorizationPolicySpec,
  /** Plaintext beside mTLS or not: `name` is `mesh` (the default) or a service. See docs/security.md. */
  PeerAuthentication: PeerAuthenticationSpec,
  /** Where a service's OpenTelemetry SDK exports and how it samples: `name` is `mesh` or a service (overriding `mesh` per field). */
  Telemetry: TelemetrySpec,
  /** A canary the config service advances or rolls back by itself; `name` is the destination service. */
  Rollout: RolloutSpec,
  /** Where a Rollout stands; written by the config service only. */
  RolloutStatus: RolloutStatusSpec,
} as const;

export type DocumentKind = keyof typeof DOCUMENT_KINDS;

/** The spec type of each kind. */
export interface DocumentSpecs {
  DestinationPolicy: DestinationPolicy;
  Route: RouteSpec;
  TrafficSwitch: TrafficSwitchSpec;
  AuthorizationPolicy: AuthorizationPolicySpec;
  PeerAuthentication: PeerAuthenticationSpec;
  Telemetry: TelemetrySpec;
  Rollout: RolloutSpec;
  RolloutStatus: RolloutStatusSpec;
}

/**
 * Lowercase DNS names: dot-separated labels of letters, digits and `-`, each starting and ending
 * alphanumeric (so no `a..b`), 253 characters at most. The same rule as {@link serviceNameIssue}.
 */
export const NAME_PATTERN =
  /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/;

/** A config document as written by users. */
export interface ConfigDocument<K extends DocumentKind = DocumentKind> {
  readonly kind: K;
  readonly name: string;
  readonly spec: DocumentSpecs[K];
}

/** A config document as stored: with the revision that last changed it and the one that created it. */
export interface StoredDocument<K extends DocumentKind = DocumentKind> extends ConfigDocument<K> {
  /** The global revision of the last write to this document. */
  readonly revision: number;
  /** The global revision that created this document. */
  readonly createRevision: number;
}

/** The outcome of {@link validateDocument}: the document, or `path: reason` issues. */
export type ValidationResult =
  | { readonly ok: true; readonly document: ConfigDocument }
  | { readonly ok: false; readonly issues: readonly string[] };

const Name = z.string().superRefine((name, ctx) => {
  const issue = serviceNameIssue(name);
  if (issue) ctx.addIssue({ code: 'custom', message: issue });
});

const Revision = z.number().int().min(0);

/**
 * The envelope. A stored document's `revision` and `createRevision` are accepted and ignored, so that
 * what `weft get` prints can be edited and applied again.
 */
const Envelope = z.strictObject({
  kind: z.string(),
  name: Name,
  spec: z.unknown(),
  revision: Revision.optional(),
  createRevision: Revision.optional(),
});

/** True when `kind` names a supported document kind. */
export function isDocumentKind(kind: unknown): kind is DocumentKind {
  return typeof kind === 'string' && Object.hasOwn(DOCUMENT_KINDS, kind);
}

/** The key of a document within the store: `kind/name`. */
export function documentKey(kind: string, name: string): string {
  return `${kind}/${name}`;
}

/** Checks a document name, returning the reason it is invalid or undefined. */
export function checkName(name: unknown): string | undefined {
  return serviceNameIssue(name);
}

/**
 * Validates an untrusted document. Every issue is reported as `path: reason`, with paths prefixed
 * by `prefix` (for example `documents.2`) so that a caller sees exactly which field is wrong.
 */
export function validateDocument(input: unknown, prefix = ''): ValidationResult {
  const envelope = Envelope.safeParse(input);
  if (!envelope.success) return { ok: false, issues: formatIssues(envelope.error, prefix) };
  const { kind, name, spec } = envelope.data;
  const at = (field: string) => [prefix, field].filter(Boolean).join('.');
  if (!isDocumentKind(kind)) {
    const known = Object.keys(DOCUMENT_KINDS).join(', ');
    return { ok: false, issues: [`${at('kind')}: unsupported kind "${kind}" (supported: ${known})`] };
  }
  if (spec === undefined) return { ok: false, issues: [`${at('spec')}: required`] };
  const parsed = DOCUMENT_KINDS[kind].safeParse(spec);
  if (!parsed.success) return { ok: false, issues: formatIssues(parsed.error, at('spec')) };
  return { ok: true, document: { kind, name, spec: parsed.data } };
}
