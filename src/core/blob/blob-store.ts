import type { Readable } from 'node:stream';

/**
 * Where dumps and other files go: a directory (`file:///dir`) or an S3-compatible bucket
 * (`s3://bucket/prefix`). Names are relative (`2026-03-29.json.gz`); the store adds its prefix.
 */
export interface BlobStore {
  /** The store's URL as configured, e.g. `file:///var/lib/wattline/dumps` or `s3://bucket/dumps`. */
  readonly url: string;
  /**
   * Writes `name` from `body`, replacing any blob of that name. The blob appears complete or not at
   * all: a crash or a failed body never leaves a partial blob under `name` (a file is written under a
   * temporary name and renamed; an S3 multipart upload becomes visible only when completed).
   */
  put(name: string, body: Readable, options?: { contentType?: string }): Promise<PutResult>;
  /** Reads a blob; rejects with a `BlobNotFound` when there is none of that name. */
  get(name: string): Promise<Readable>;
  /** Names of the blobs (without the store's prefix), sorted. */
  list(): Promise<string[]>;
}

export interface PutResult {
  name: string;
  /** Full URL of the written blob, e.g. `s3://bucket/dumps/2026-03-29.json.gz`. */
  url: string;
  bytes: number;
}

export class BlobNotFound extends Error {
  constructor(readonly blob: string) {
    super(`no blob named ${blob}`);
  }
}

export interface S3Settings {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  forcePathStyle: boolean;
}
