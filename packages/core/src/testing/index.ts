// First: refuses too old a Node.js before any other module of the package runs.
import '../runtime/node-check.ts';

export type { FakeBinding, FakeBindingOptions, FakeConnection } from './fake-binding.ts';
export { FAKE_RETRY_STATUSES, FAKE_SEMCONV, fakeBinding, fakeClassifier } from './fake-binding.ts';
export type { FakeCallInit, FakeClient, FakeClientOptions } from './fake-client.ts';
export { fakeClient, fakeEndpoints } from './fake-client.ts';
export { ManualResolver } from './manual-resolver.ts';
export type { PropertyRuns } from './property-runs.ts';
export { propertyRuns } from './property-runs.ts';
export { seededRandom } from './random.ts';
export type {
  AttemptRecord,
  Script,
  ScriptedService,
  ScriptedServiceOptions,
  Step,
} from './scripted-service.ts';
export { FakeResponse, OK, scriptedService } from './scripted-service.ts';
export { flushMicrotasks, VirtualClock } from './virtual-clock.ts';
