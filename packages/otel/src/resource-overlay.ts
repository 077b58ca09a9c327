/**
 * The SDK fixes a provider's resource when it starts; the document's `resourceAttributes` may change
 * later. They are laid over the resource of each batch as it is exported instead: one merged
 * resource per original (cached, so the OTLP encoder still groups a batch under one resource), the
 * cache dropped when the attributes change.
 */
import { type Resource, resourceFromAttributes } from '@opentelemetry/resources';
import type { AttributeValue } from './settings.ts';

export class ResourceOverlay {
  #attributes: Readonly<Record<string, AttributeValue>> = {};
  #overlay: Resource | undefined;
  #merged = new WeakMap<Resource, Resource>();

  get attributes(): Readonly<Record<string, AttributeValue>> {
    return this.#attributes;
  }

  set(attributes: Readonly<Record<string, AttributeValue>>): void {
    this.#attributes = attributes;
    this.#overlay = Object.keys(attributes).length ? resourceFromAttributes(attributes) : undefined;
    this.#merged = new WeakMap();
  }

  /** `base` with the attributes laid over it (the same object when there are none). */
  apply(base: Resource): Resource {
    if (this.#overlay === undefined) return base;
    let merged = this.#merged.get(base);
    if (merged === undefined) {
      merged = base.merge(this.#overlay);
      this.#merged.set(base, merged);
    }
    return merged;
  }
}
