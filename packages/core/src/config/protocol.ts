/**
 * The wire model shared by the config service and its clients: registry instances, the changes a
 * revision carries, snapshots, and the Server-Sent Events of the watch stream.
 */
import { z } from 'zod';
import type { DocumentKind, StoredDocument } from './document.ts';
import { hostIssue, normalizeHost } from './names.ts';

/** One registered instance of a service. */
export interface Instance {
  readonly service: string;
  /** Unique within the service; defaults to `address:port` at registration. */
  readonly id: string;
  readonly address: string;
  readonly port: number;
  /** Free-form labels such as `version` and `zone`. */
  readonly labels: Readonly<Record<string, string>>;
  /** Relative weight for weighted balancing. */
  readonly weight?: number;
  /** Lease length: the instance expires when no heartbeat arrives for this long. */
  readonly ttlMs: number;
  /** The global revision that registered it. */
  readonly revision: number;
}

/** One change within a revision. */
export type Change =
  | { readonly op: 'put'; readonly document: StoredDocument }
  | { readonly op: 'delete'; readonly kind: DocumentKind; readonly name: string }
  | { readonly op: 'register'; readonly instance: Instance }
  | {
      readonly op: 'deregister';
      readonly service: string;
      readonly id: string;
      readonly reason: 'deregistered' | 'expired';
    }
  /** The certificate authority changed (first start, rotation, end of an overlap). */
  | { readonly op: 'bundle'; readonly bundle: TrustBundle };

/**
 * The CA certificates every client and server of the mesh trusts, served by the config service (in
 * the watch snapshot, as a `bundle` change, and at `GET /v1/ca/bundle`).
 */
export interface TrustBundle {
  /** The SPIFFE trust domain: identities are `spiffe://<trustDomain>/service/<service>`. */
  readonly trustDomain: string;
  /**
   * PEM certificates of the trust anchors. One in steady state; during a rotation's overlap, the
   * new one first and the retiring one after it.
   */
  readonly certificates: readonly string[];
  /** Counts the CA's changes: a bundle of a higher generation replaces one of a lower. */
  readonly generation: number;
}

/** The SPIFFE ID of a service, carried as its certificate's URI SAN. */
export function spiffeId(trustDomain: string, service: string): string {
  return `spiffe://${trustDomain}/service/${service}`;
}

/** The access token that made a write: its id and name (never its secret). */
export interface WriteAuthor {
  readonly tokenId: string;
  readonly name: string;
}

/** Every write (one or many changes, applied atomically) gets the next global revision. */
export interface LogEntry {
  readonly revision: number;
  /** ISO time of the write, as seen by the config service that made it. */
  readonly at: string;
  readonly changes: readonly Change[];
  /**
   * The token that made the write (the audit trail). Absent for the config service's own writes
   * (lease expiry) and for entries stored before writes were attributed.
   */
  readonly author?: WriteAuthor;
}

/** The whole state at one revision. */
export interface Snapshot {
  /** Identifies the store; revisions of two different stores are not comparable. */
  readonly storeId: string;
  readonly revision: number;
  readonly documents: readonly StoredDocument[];
  readonly instances: readonly Instance[];
  /** The mesh's trust bundle; absent while the service has no certificate authority. */
  readonly trustBundle?: TrustBundle;
}

/** SSE event names of the watch stream (`GET /v1/watch`). */
export const WatchEvent = {
  /** Data is a {@link Snapshot}: replace everything. */
  Snapshot: 'snapshot',
  /** Data is a {@link LogEntry}: apply on top of the previous revision. */
  Change: 'change',
} as const;

/** The SSE `id` of an event: `storeId.revision`, sent back as `Last-Event-ID` to resume. */
export function watchEventId(storeId: string, revision: number): string {
  return `${storeId}.${revision}`;
}

/** Parses an SSE `id` made by {@link watchEventId}; undefined when malformed. */
export function parseWatchEventId(id: string | undefined): { storeId: string; revision: number } | undefined {
  if (!id) return undefined;
  const dot = id.lastIndexOf('.');
  if (dot <= 0) return undefined;
  const revision = Number(id.slice(dot + 1));
  if (!Number.isSafeInteger(revision) || revision < 0) return undefined;
  return { storeId: id.slice(0, dot), revision };
}

/** Bounds of an instance's lease in ms. */
export const LEASE_LIMITS = { minTtlMs: 100, maxTtlMs: 3_600_000, defaultTtlMs: 10_000 } as const;

/** The body of `POST /v1/services/<service>/instances`. */
export const InstanceRegistration = z.strictObject({
  /** Unique within the service. Defaults to `address:port`. */
  id: z
    .string()
    .min(1)
    .max(253)
    .regex(/^[A-Za-z0-9._:[\]-]+$/, 'letters, digits and . _ : - [ ] only')
    .optional(),
  /**
   * The host to dial: an IPv4 address, an IPv6 address (bare or in brackets; stored bare) or a DNS
   * host name. Never a URL or `host:port`: the port is its own field.
   */
  address: z
    .string()
    .superRefine((host, ctx) => {
      const issue = hostIssue(host);
      if (issue) ctx.addIssue({ code: 'custom', message: issue });
    })
    .transform(normalizeHost),
  port: z.number().int().min(1).max(65535),
  /** Labels such as `version` and `zone` (at most 64). Defaults to none. */
  labels: z
    .record(
      z
        .string()
        .min(1)
        .max(63)
        .regex(/^[A-Za-z0-9._/-]+$/, 'label keys are letters, digits and . _ / -'),
      z
        .string()
        .max(253)
        .regex(/^[^\p{Cc}]*$/u, 'label values must not contain control characters (such as CR or LF)'),
    )
    .refine((labels) => Object.keys(labels).length <= 64, 'at most 64 labels')
    .optional(),
  weight: z.number().min(0).max(1_000_000).optional(),
  /** Lease length in ms. Defaults to 10000. */
  ttlMs: z.number().int().min(LEASE_LIMITS.minTtlMs).max(LEASE_LIMITS.maxTtlMs).optional(),
});
export type InstanceRegistration = z.infer<typeof InstanceRegistration>;
