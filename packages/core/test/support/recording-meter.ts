/**
 * A small recording MeterProvider written against `@opentelemetry/api` (the tracer's sibling in
 * recording-tracer.ts): every instrument created is kept with its options, every value recorded or
 * added is kept with its attributes. Observable instruments are the API's no-ops.
 */
import {
  type Attributes,
  type Counter,
  createNoopMeter,
  type Gauge,
  type Histogram,
  type Meter,
  type MeterProvider,
  type MetricOptions,
  type UpDownCounter,
} from '@opentelemetry/api';

export interface RecordedPoint {
  instrument: string;
  value: number;
  attributes: Attributes;
}

export class RecordingMeterProvider implements MeterProvider {
  /** Instruments by name, with the options they were created with. */
  readonly instruments = new Map<string, MetricOptions | undefined>();
  readonly points: RecordedPoint[] = [];

  getMeter(): Meter {
    return new RecordingMeter(this);
  }

  /** The points recorded on instrument `name`. */
  of(name: string): RecordedPoint[] {
    return this.points.filter((p) => p.instrument === name);
  }
}

class RecordingMeter implements Meter {
  readonly #provider: RecordingMeterProvider;
  readonly #noop = createNoopMeter();

  constructor(provider: RecordingMeterProvider) {
    this.#provider = provider;
  }

  #instrument(name: string, options: MetricOptions | undefined) {
    this.#provider.instruments.set(name, options);
    const points = this.#provider.points;
    const keep = (value: number, attributes: Attributes = {}) => {
      points.push({ instrument: name, value, attributes: { ...attributes } });
    };
    return { add: keep, record: keep };
  }

  createHistogram(name: string, options?: MetricOptions): Histogram {
    return this.#instrument(name, options);
  }
  createCounter(name: string, options?: MetricOptions): Counter {
    return this.#instrument(name, options);
  }
  createUpDownCounter(name: string, options?: MetricOptions): UpDownCounter {
    return this.#instrument(name, options);
  }
  createGauge(name: string, options?: MetricOptions): Gauge {
    return this.#instrument(name, options);
  }
  createObservableGauge: Meter['createObservableGauge'] = (name, options) =>
    this.#noop.createObservableGauge(name, options);
  createObservableCounter: Meter['createObservableCounter'] = (name, options) =>
    this.#noop.createObservableCounter(name, options);
  createObservableUpDownCounter: Meter['createObservableUpDownCounter'] = (name, options) =>
    this.#noop.createObservableUpDownCounter(name, options);
  addBatchObservableCallback: Meter['addBatchObservableCallback'] = (callback, observables) =>
    this.#noop.addBatchObservableCallback(callback, observables);
  removeBatchObservableCallback: Meter['removeBatchObservableCallback'] = (callback, observables) =>
    this.#noop.removeBatchObservableCallback(callback, observables);
}
