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
