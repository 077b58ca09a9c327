/**
 * The shape of grpc-js's channel-level call (serialized messages), as returned by
 * `Channel.createCall`. grpc-js exports it only as `experimental.CallStream`; this names the part
 * Weft uses.
 */
import type { experimental, Metadata, StatusObject } from '@grpc/grpc-js';

export type RawCall = experimental.CallStream;

/** What a raw call reports to: response headers, each message (serialized), the final status. */
export interface RawListener {
  onReceiveMetadata(metadata: Metadata): void;
  onReceiveMessage(message: Buffer): void;
  onReceiveStatus(status: StatusObject): void;
}
