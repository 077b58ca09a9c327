export type {
  ConfigDocument,
  DocumentKind,
  DocumentSpecs,
  StoredDocument,
  ValidationResult,
} from './document.ts';
export {
  checkName,
  DOCUMENT_KINDS,
  documentKey,
  isDocumentKind,
  NAME_PATTERN,
  validateDocument,
} from './document.ts';
export {
  BalancerKind,
  BalancerPolicy,
  CircuitBreakerPolicy,
  DestinationPolicy,
  formatIssues,
  mergePolicies,
  OutlierPolicy,
  RetryBudgetPolicy,
  RetryPolicy,
} from './policy.ts';
export type { Change, Instance, LogEntry, Snapshot } from './protocol.ts';
export { parseWatchEventId, WatchEvent, watchEventId } from './protocol.ts';
export type { SseMessage } from './sse.ts';
export { SseParser } from './sse.ts';
