/**
 * A prototype grpc-js load-balancing policy (`weft_p2c_bench`), for measurement only: power of two
 * choices over the READY endpoints by peak-EWMA latency × (outstanding + 1), fed by the picker's
 * `onCallStarted`/`onCallEnded` hooks. It is what the LB-policy route would look like, and it shows
 * the limit of that route: the picker sees one attempt, synchronously — no retries, budget,
 * breaker or deadline inheritance can live there. Built on grpc-js's experimental API.
 */
import { connectivityState, experimental } from '@grpc/grpc-js';

export const P2C_POLICY = 'weft_p2c_bench';
const DECAY_MS = 10_000;

class Config implements experimental.TypedLoadBalancingConfig {
  getLoadBalancerName(): string {
    return P2C_POLICY;
  }
  toJsonObject(): object {
    return { [P2C_POLICY]: {} };
  }
  static createFromJson(): Config {
    return new Config();
  }
}

interface Child {
  leaf: experimental.LeafLoadBalancer;
  outstanding: number;
  cost: number;
  stamp: number;
}

function load(c: Child, now: number): number {
  const w = Math.exp(-(now - c.stamp) / DECAY_MS);
  return c.cost * w * (c.outstanding + 1);
}

class P2cPicker implements experimental.Picker {
  readonly #children: Child[];
  constructor(children: Child[]) {
    this.#children = children;
  }
  pick(args: experimental.PickArgs): experimental.PickResult {
    const list = this.#children;
    const now = performance.now();
    let c = list[(Math.random() * list.length) | 0]!;
    if (list.length > 1) {
      const d = list[(Math.random() * list.length) | 0]!;
      if (load(d, now) < load(c, now)) c = d;
    }
    const result = c.leaf.getPicker().pick(args);
    const child = c;
    let start = 0;
    return {
      ...result,
      onCallStarted: () => {
        child.outstanding++;
        start = performance.now();
        result.onCallStarted?.();
      },
      onCallEnded: (code, details, metadata) => {
        child.outstanding--;
        const t = performance.now();
        const rtt = t - start;
        const w = Math.exp(-(t - child.stamp) / DECAY_MS);
        child.cost = rtt > child.cost ? rtt : child.cost * w + rtt * (1 - w);
        child.stamp = t;
        result.onCallEnded?.(code, details, metadata);
      },
    };
  }
}

class P2cPolicy implements experimental.LoadBalancer {
  readonly #helper: experimental.ChannelControlHelper;
  readonly #childHelper: experimental.ChannelControlHelper;
  #children: Child[] = [];

  constructor(helper: experimental.ChannelControlHelper) {
    this.#helper = helper;
    this.#childHelper = experimental.createChildChannelControlHelper(helper, {
      updateState: () => this.#update(),
    });
  }

  #update(): void {
    const ready = this.#children.filter((c) => c.leaf.getConnectivityState() === connectivityState.READY);
    if (ready.length > 0) this.#helper.updateState(connectivityState.READY, new P2cPicker(ready), null);
    else this.#helper.updateState(connectivityState.CONNECTING, new experimental.QueuePicker(this), null);
    for (const c of this.#children)
      if (c.leaf.getConnectivityState() === connectivityState.IDLE) c.leaf.exitIdle();
  }

  updateAddressList(
    endpoints: experimental.StatusOr<experimental.Endpoint[]>,
    _config: experimental.TypedLoadBalancingConfig,
    options: Parameters<experimental.LoadBalancer['updateAddressList']>[2],
    note: string,
  ): boolean {
    if (!endpoints.ok) return true;
    for (const c of this.#children) c.leaf.destroy();
    this.#children = endpoints.value.map((e) => ({
      leaf: new experimental.LeafLoadBalancer(e, this.#childHelper, options, note),
      outstanding: 0,
      cost: 0,
      stamp: performance.now(),
    }));
    for (const c of this.#children) c.leaf.startConnecting();
    this.#update();
    return true;
  }
  exitIdle(): void {}
  resetBackoff(): void {}
  destroy(): void {
    for (const c of this.#children) c.leaf.destroy();
    this.#children = [];
  }
  getTypeName(): string {
    return P2C_POLICY;
  }
}

export function registerP2cPolicy(): void {
  experimental.registerLoadBalancerType(P2C_POLICY, P2cPolicy, Config);
}
