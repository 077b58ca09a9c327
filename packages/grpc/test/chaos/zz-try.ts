import { runChaos } from './run.ts';
const protocol = (process.argv[2] ?? 'http') as 'http' | 'grpc';
const faults = (process.argv[3] ?? 'none,kill,hang,reset-before-head,reset-after-head,slow,restart,malformed').split(',');
for (const fault of faults) {
  const r = await runChaos({ protocol, fault: fault as never });
  console.log(fault.padEnd(18), 'idem', r.idempotent.calls, r.idempotent.failures, JSON.stringify(r.idempotent.codes), 'non', r.nonIdempotent.calls, r.nonIdempotent.failures, JSON.stringify(r.nonIdempotent.codes), 'dl', Math.round(r.nonIdempotent.deadline.minMs), Math.round(r.nonIdempotent.deadline.maxMs), 'twice', r.executedTwice, 'ejected', r.ejectedAfterMs);
}
