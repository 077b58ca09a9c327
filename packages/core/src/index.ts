export type { Endpoint, Resolver, ResolverListener, ResolverState } from './endpoint/endpoint.ts';
export { endpointKey, parseEndpoint, StaticResolver, usableEndpoints } from './endpoint/endpoint.ts';
export type { ErrorCode as ErrorCodeValue, WeftErrorOptions } from './errors/errors.ts';
export { ErrorCode, invalidOption, isWeftError, WeftError } from './errors/errors.ts';
export type { Clock, Random, TimerHandle } from './time/clock.ts';
export { sleep, systemClock } from './time/clock.ts';
