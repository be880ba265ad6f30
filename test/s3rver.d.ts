// s3rver ships no types; this covers its documented programmatic API.
declare module 's3rver' {
  import type { IncomingMessage, ServerResponse } from 'node:http';
  import type { AddressInfo } from 'node:net';

  interface S3rverOptions {
    address?: string;
    port?: number;
    silent?: boolean;
    directory?: string;
    resetOnClose?: boolean;
    allowMismatchedSignatures?: boolean;
    vhostBuckets?: boolean;
    configureBuckets?: { name: string; configs?: (string | Buffer)[] }[];
  }

  export default class S3rver {
    constructor(options?: S3rverOptions);
    /** Creates the buckets named in `configureBuckets` (without starting a server). */
    configureBuckets(): Promise<void>;
    /** The request handler, for mounting on an http.Server of one's own. */
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
    /** Starts its own server; resolves to its address (the actual port when `port` was 0). */
    run(): Promise<AddressInfo>;
    close(): Promise<void>;
  }
}
