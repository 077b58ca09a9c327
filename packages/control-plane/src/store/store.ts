/**
 * The storage interface of the config service. Two implementations: {@link sqliteStore} (one file,
 * the default) and {@link etcdStore} (shared by several replicas). Every mutation is one atomic
 * commit that gets the next global revision and appends a {@link LogEntry}; heartbeats are the one
 * exception (they only move an instance's lease and do not change what watchers see).
 */
import type {
  Change,
  DocumentKind,
  Instance,
  LogEntry,
  Snapshot,
  StoredDocument,
  TrustBundle,
  WriteAuthor,
} from '@weft/core/config';

/** A condition checked atomically with a commit. */
export type Expectation =
  /** The document's current revision is `revision` (0: it does not exist). */
  | {
      readonly type: 'document';
      readonly kind: DocumentKind;
      readonly name: string;
      readonly revision: number;
    }
  /** Nothing at all was committed since `revision`. */
  | { readonly type: 'revision'; readonly revision: number }
  /** The instance exists and its lease deadline is still `expiresAt` (no heartbeat since). */
  | { readonly type: 'lease'; readonly service: string; readonly id: string; readonly expiresAt: number }
  /** The certificate authority is still at `generation` (0: there is none yet). */
  | { readonly type: 'ca'; readonly generation: number };

/** One CA certificate with its key, as kept in the store (never in a log entry or a snapshot). */
export interface StoredAuthority {
  /** Hex SHA-256 of the certificate (DER). */
  readonly id: string;
  /** PEM of the certificate that signs. */
  readonly certificate: string;
  /** PEM certificates above it up to the trust anchor, nearest first (empty for a root). */
  readonly chain: readonly string[];
  /** PEM of the trust anchor clients must trust (the certificate itself for a root). */
  readonly anchor: string;
  /** PKCS#8 PEM of the private key. */
  readonly privateKey: string;
  /** `generated` by the service, or given by the `operator` (an intermediate). */
  readonly source: 'generated' | 'operator';
  /** ISO time it was added. */
  readonly addedAt: string;
}

/** The certificate authority's state. */
export interface StoredCa {
  /** Counts changes (1 for the first CA); guards concurrent rotations. */
  readonly generation: number;
  readonly trustDomain: string;
  /** The first signs; a second one is retiring (an overlap is open). */
  readonly authorities: readonly StoredAuthority[];
  /** While an overlap is open: when it began (ISO) and the earliest ISO time it may end. */
  readonly overlap?: { readonly since: string; readonly endsAfter: string };
  /** What clients see: derived from the authorities when written. */
  readonly bundle: TrustBundle;
}

/** An instance with its lease deadline (wall-clock ms), as kept in the store. */
export interface StoredInstance {
  readonly instance: Instance;
  readonly expiresAt: number;
}

/** A change to commit; instances carry their lease deadline, documents get their revision filled in. */
export type PendingChange =
  | { readonly op: 'put'; readonly kind: DocumentKind; readonly name: string; readonly spec: unknown }
  | { readonly op: 'delete'; readonly kind: DocumentKind; readonly name: string }
  | { readonly op: 'register'; readonly instance: Omit<Instance, 'revision'>; readonly expiresAt: number }
  | {
      readonly op: 'deregister';
      readonly service: string;
      readonly id: string;
      readonly reason: 'deregistered' | 'expired';
    }
  /** Writes the CA (keys included); watchers see only its `bundle`. */
  | { readonly op: 'ca'; readonly ca: StoredCa };

export type CommitResult =
  | { readonly ok: true; readonly entry: LogEntry }
  | { readonly ok: false; readonly failed: Expectation };

/** A hashed access token. The secret itself is never stored. */
export interface TokenRecord {
  readonly id: string;
  readonly name: string;
  /**
   * `admin`: everything; `service`: reads, and the registry and certificates of its own service;
   * `viewer`: the read routes only (the dashboard's read-only login).
   */
  readonly role: 'admin' | 'service' | 'viewer';
  /**
   * The one service a `service` token acts for in the registry (and, later, for certificates).
   * Records made before scopes have none and act for the service of their `name`; admin tokens
   * are unscoped.
   */
  readonly service?: string;
  /** Hex SHA-256 of the secret part. */
  readonly hash: string;
  readonly createdAt: string;
}

/**
 * Short-lived values each replica shares with the others (the traffic window's buckets): written
 * once under a name unique to the writer, gone after their time to live. Only a store shared by
 * several replicas has them.
 */
export interface ReplicaBlobs {
  /** Writes `value` under `name` for `ttlS` seconds. */
  put(name: string, value: string, ttlS: number): Promise<void>;
  /** The names written and not yet expired. */
  names(prefix: string): Promise<string[]>;
  get(name: string): Promise<string | undefined>;
}

/**
 * One replica's standing in an election among the replicas of a shared store (held by a lease that
 * lapses when the holder stops renewing it: a killed replica loses it after `ttlS`).
 */
export interface Leadership {
  /** True while this replica holds it. */
  readonly leader: boolean;
  /** Gives it up (if held) and stops campaigning. */
  close(): Promise<void>;
}

export interface Store {
  /** Stable id of this store's data (revisions of two stores are not comparable). */
  readonly id: string;
  /** Values shared between replicas; undefined for a store only one replica uses (SQLite). */
  readonly blobs?: ReplicaBlobs;
  /**
   * Campaigns for `name` among the replicas; undefined for a store only one replica uses (SQLite),
   * whose single process always leads.
   */
  elect?(name: string, ttlS: number): Leadership;
  /** The current global revision. */
  revision(): Promise<number>;
  snapshot(): Promise<Snapshot>;
  getDocument(kind: DocumentKind, name: string): Promise<StoredDocument | undefined>;
  listDocuments(kind?: DocumentKind): Promise<StoredDocument[]>;
  listInstances(service?: string): Promise<StoredInstance[]>;
  getInstance(service: string, id: string): Promise<StoredInstance | undefined>;
  /**
   * Atomically: checks every expectation, applies every change under the next revision, appends the
   * log entry. Nothing is applied when an expectation fails. `author` (the token that asked for
   * the write) is recorded in the entry; omit it for the service's own writes.
   */
  commit(
    changes: readonly PendingChange[],
    expectations?: readonly Expectation[],
    author?: WriteAuthor,
  ): Promise<CommitResult>;
  /** Moves an instance's lease deadline; false when the instance is unknown. Does not bump the revision. */
  heartbeat(service: string, id: string, expiresAt: number): Promise<boolean>;
  /**
   * Log entries after `revision`, oldest first. `undefined` when entries after `revision` may have
   * been compacted away (the caller must fall back to a snapshot).
   */
  logSince(revision: number, limit: number): Promise<LogEntry[] | undefined>;
  /** Log entries that touch config documents, newest first, optionally for one document. */
  history(filter: { kind?: DocumentKind; name?: string; limit: number }): Promise<LogEntry[]>;
  /** The config documents as they were at `revision`. */
  documentsAt(revision: number): Promise<StoredDocument[]>;
  /** Calls `listener` with every committed entry, in revision order (for etcd: every replica's). */
  onCommit(listener: (entry: LogEntry) => void): () => void;
  /** The certificate authority, or undefined before the first start made one. */
  getCa(): Promise<StoredCa | undefined>;
  /**
   * Stores the first CA of a store that has none, atomically and without a revision (a new store's
   * first write stays revision 1); false when one exists already. Later changes are commits.
   */
  createCa(ca: StoredCa): Promise<boolean>;
  /** Creates the token unless an admin token exists already (atomic); true when created. */
  createFirstAdminToken(token: TokenRecord): Promise<boolean>;
  putToken(token: TokenRecord): Promise<void>;
  getToken(id: string): Promise<TokenRecord | undefined>;
  listTokens(): Promise<TokenRecord[]>;
  deleteToken(id: string): Promise<boolean>;
  close(): Promise<void>;
}

/** A commit larger than the store can take in one transaction (etcd's `--max-txn-ops`). */
export class StoreLimitError extends Error {
  override readonly name = 'StoreLimitError';
}

/** Returns the revision a document expectation refers to, for error messages. */
export function describeExpectation(e: Expectation): string {
  if (e.type === 'document') return `${e.kind}/${e.name} at revision ${e.revision}`;
  if (e.type === 'revision') return `store at revision ${e.revision}`;
  if (e.type === 'ca') return `certificate authority at generation ${e.generation}`;
  return `lease of ${e.service}/${e.id}`;
}

/** The log entry of a commit at `revision`: its author only when there is one. */
export function logEntry(
  revision: number,
  at: string,
  changes: Change[],
  author: WriteAuthor | undefined,
): LogEntry {
  return author
    ? { revision, at, changes, author: { tokenId: author.tokenId, name: author.name } }
    : { revision, at, changes };
}

/** Builds the log entry's public changes from pending ones at `revision`. */
export function materialize(
  changes: readonly PendingChange[],
  revision: number,
  createRevisions: ReadonlyMap<string, number>,
): Change[] {
  return changes.map((c): Change => {
    switch (c.op) {
      case 'put': {
        const createRevision = createRevisions.get(`${c.kind}/${c.name}`) ?? revision;
        return {
          op: 'put',
          document: { kind: c.kind, name: c.name, spec: c.spec as never, revision, createRevision },
        };
      }
      case 'delete':
        return { op: 'delete', kind: c.kind, name: c.name };
      case 'register':
        return { op: 'register', instance: { ...c.instance, revision } };
      case 'ca':
        return { op: 'bundle', bundle: c.ca.bundle };
      default:
        return { op: 'deregister', service: c.service, id: c.id, reason: c.reason };
    }
  });
}

/** True when the entry changes at least one config document. */
export function touchesDocuments(entry: LogEntry, kind?: string, name?: string): boolean {
  return entry.changes.some((c) => {
    if (c.op === 'put') return (!kind || c.document.kind === kind) && (!name || c.document.name === name);
    if (c.op === 'delete') return (!kind || c.kind === kind) && (!name || c.name === name);
    return false;
  });
}

/** Replays document changes of `entries` (oldest first) to get the documents at the last one. */
export function replayDocuments(entries: Iterable<LogEntry>): StoredDocument[] {
  const docs = new Map<string, StoredDocument>();
  for (const e of entries) {
    for (const c of e.changes) {
      if (c.op === 'put') docs.set(`${c.document.kind}/${c.document.name}`, c.document);
      else if (c.op === 'delete') docs.delete(`${c.kind}/${c.name}`);
    }
  }
  return [...docs.values()].sort(compareDocuments);
}

export function compareDocuments(a: StoredDocument, b: StoredDocument): number {
  return a.kind === b.kind ? (a.name < b.name ? -1 : a.name > b.name ? 1 : 0) : a.kind < b.kind ? -1 : 1;
}

/** The `trustBundle` field of a snapshot: present once the store has a CA. */
export function withBundle(ca: StoredCa | undefined): { trustBundle?: TrustBundle } {
  return ca ? { trustBundle: ca.bundle } : {};
}
