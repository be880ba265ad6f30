import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as protoLoader from '@grpc/proto-loader';

/** `proto/` at the repository root: every service's wire definition, shared with clients. */
export const PROTO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'proto');

/**
 * How every proto is decoded, so message shapes are the same in each module: field names as written
 * in the .proto, int64 as a number (a timestamp's seconds fit), enums as names, unset scalars as their
 * default, unset messages as null.
 */
export const PROTO_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
  includeDirs: [PROTO_ROOT],
};

/** Loads a .proto under `proto/` (`edgecom/timeseries.proto`); well-known types resolve on their own. */
export function loadProto(relativePath: string): protoLoader.PackageDefinition {
  return protoLoader.loadSync(relativePath, PROTO_OPTIONS);
}

/** `google.protobuf.Timestamp` as decoded with `PROTO_OPTIONS`. */
export interface Timestamp {
  seconds: number;
  nanos: number;
}

/** Epoch milliseconds as a `Timestamp` (ms precision, which is what the store keeps). */
export function toTimestamp(ms: number): Timestamp {
  const seconds = Math.floor(ms / 1000);
  return { seconds, nanos: (ms - seconds * 1000) * 1_000_000 };
}
