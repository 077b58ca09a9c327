/**
 * Shape checks of what the client receives from the config service or reads from its cache. The
 * client trusts no input: a snapshot or log entry of the wrong shape is refused whole (the state
 * keeps what it had), and a malformed instance or document inside a good one is skipped and
 * reported, so that one bad registration never reaches a resolver (and no pool is made for it).
 */
import { ErrorCode, WeftError } from '../errors/errors.ts';
import { hostIssue, portIssue, serviceNameIssue } from './names.ts';
import { type LogEntry, type Snapshot, WatchEvent } from './protocol.ts';

const PEM_CERTIFICATE =
  /^-----BEGIN CERTIFICATE-----\r?\n[A-Za-z0-9+/=\r\n]+-----END CERTIFICATE-----\r?\n?$/;

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const isRevision = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

function malformed(what: string): WeftError {
  return new WeftError(ErrorCode.ResolutionFailed, `malformed message from the config service: ${what}`, {
    retryable: true,
  });
}

/** Why `value` is not a usable registry instance, or undefined. */
export function instanceIssue(value: unknown): string | undefined {
  if (!isRecord(value)) return 'not an object';
  const { service, id, address, port, labels, weight, ttlMs } = value;
  const name = serviceNameIssue(service);
  if (name) return `service ${name}`;
  if (typeof id !== 'string' || id === '') return 'id: must be a non-empty string';
  const host = hostIssue(address);
  if (host) return `address ${host}`;
  const p = portIssue(port);
  if (p) return `port ${p}`;
  if (!isRecord(labels) || !Object.values(labels).every((v) => typeof v === 'string'))
    return 'labels: must be an object of strings';
  if (weight !== undefined && !(typeof weight === 'number' && Number.isFinite(weight) && weight >= 0))
    return 'weight: must be a finite number ≥ 0';
  if (!(typeof ttlMs === 'number' && ttlMs > 0)) return 'ttlMs: must be a number > 0';
  return undefined;
}

/** Why `value` is not a stored document envelope (kind, name, revisions), or undefined. */
export function documentIssue(value: unknown): string | undefined {
  if (!isRecord(value)) return 'not an object';
  if (typeof value.kind !== 'string' || typeof value.name !== 'string')
    return 'kind and name must be strings';
  if (!isRevision(value.revision) || !isRevision(value.createRevision))
    return 'revisions must be integers ≥ 0';
  return undefined;
}

/** Why `value` is not a trust bundle (trust domain, PEM certificates, generation), or undefined. */
export function trustBundleIssue(value: unknown): string | undefined {
  if (!isRecord(value)) return 'not an object';
  if (typeof value.trustDomain !== 'string' || !/^[a-z0-9._-]{1,255}$/.test(value.trustDomain))
    return 'trustDomain: must be lower-case letters, digits, ".", "_" or "-"';
  const certs = value.certificates;
  if (!Array.isArray(certs) || certs.length === 0) return 'certificates: must be a non-empty array';
  if (!certs.every((c) => typeof c === 'string' && PEM_CERTIFICATE.test(c)))
    return 'certificates: each must be one PEM certificate';
  if (!isRevision(value.generation)) return 'generation: must be an integer ≥ 0';
  return undefined;
}

/** Why `value` is not a change of a log entry (its op and fields), or undefined. */
export function changeIssue(value: unknown): string | undefined {
  if (!isRecord(value)) return 'not an object';
  switch (value.op) {
    case 'put':
      return documentIssue(value.document);
    case 'delete':
      return typeof value.kind === 'string' && typeof value.name === 'string'
        ? undefined
        : 'kind and name must be strings';
    case 'register':
      return instanceIssue(value.instance);
    case 'deregister':
      return typeof value.service === 'string' && typeof value.id === 'string'
        ? undefined
        : 'service and id must be strings';
    case 'bundle':
      return trustBundleIssue(value.bundle);
    default:
      return `unknown op ${JSON.stringify(value.op)}`;
  }
}

/** Checks the outer shape of a snapshot; throws a `WEFT_RESOLUTION_FAILED` error when wrong. */
export function checkSnapshot(value: unknown): Snapshot {
  if (!isRecord(value)) throw malformed('a snapshot that is not an object');
  if (typeof value.storeId !== 'string') throw malformed('snapshot.storeId is not a string');
  if (!isRevision(value.revision)) throw malformed('snapshot.revision is not an integer ≥ 0');
  if (!Array.isArray(value.documents) || !Array.isArray(value.instances))
    throw malformed('snapshot.documents and snapshot.instances must be arrays');
  return value as unknown as Snapshot;
}

/** Checks the outer shape of a log entry; throws a `WEFT_RESOLUTION_FAILED` error when wrong. */
export function checkLogEntry(value: unknown): LogEntry {
  if (!isRecord(value)) throw malformed('a change that is not an object');
  if (!isRevision(value.revision)) throw malformed('change.revision is not an integer ≥ 0');
  if (!Array.isArray(value.changes)) throw malformed('change.changes is not an array');
  return value as unknown as LogEntry;
}

/**
 * The data of one watch-stream message: a checked snapshot or log entry by event name (other
 * events: the parsed JSON). Throws a `WEFT_RESOLUTION_FAILED` error for JSON that does not parse
 * or has the wrong shape.
 */
export function parseWatchData(message: { readonly event: string; readonly data: string }): unknown {
  let data: unknown;
  try {
    data = JSON.parse(message.data);
  } catch {
    throw malformed(`${message.event} data that is not JSON (${message.data.slice(0, 60)})`);
  }
  if (message.event === WatchEvent.Snapshot) return checkSnapshot(data);
  if (message.event === WatchEvent.Change) return checkLogEntry(data);
  return data;
}
