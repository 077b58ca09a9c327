export type { StartTelemetryOptions, TelemetrySource } from './options.ts';
export { START_TELEMETRY_DEFAULTS } from './options.ts';
export type { AttributeValue, EffectiveTelemetry, Env, Signal, SignalExport } from './settings.ts';
export { resolveTelemetry } from './settings.ts';
export type { Telemetry } from './start.ts';
export { startTelemetry } from './start.ts';
