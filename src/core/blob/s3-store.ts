import type { S3ClientConfig } from '@aws-sdk/client-s3';
import { type Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BlobNotFound, type BlobStore, type PutResult, type S3Settings } from './blob-store.js';
import { assertPlainName } from './file-store.js';

/** S3's smallest allowed part (except the last); memory per upload is about PART_SIZE × QUEUE_SIZE. */
const PART_SIZE = 5 * 1024 * 1024;
const QUEUE_SIZE = 4;

export function s3ClientConfig(settings: S3Settings): S3ClientConfig {
  return {
    region: settings.region || 'us-east-1',
    // Empty endpoint: AWS S3 itself, found from the region.
    ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
    forcePathStyle: settings.forcePathStyle,
    // No key configured: leave credentials unset so the SDK's default chain (environment, shared
    // config, instance/container role) applies.
    ...(settings.accessKeyId
      ? { credentials: { accessKeyId: settings.accessKeyId, secretAccessKey: settings.secretAccessKey } }
      : {}),
    // SDK v3 (since early 2025) adds CRC32 checksums to every upload and checks them on download;
    // several S3-compatible servers reject or lack them. Only send them where S3 demands them.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  };
}

/**
 * The AWS SDK, loaded on first use: a process that never touches S3 never loads it (it takes time and
 * memory at start). Its client tells every process on Node < 22, at its creation, that SDK versions
 * from 2027 will need Node 22; Wattline supports Node 20, so that notice is turned off through the
 * SDK's own switch for it, unless the environment sets that switch.
 */
async function loadSdk() {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const [s3, storage] = await Promise.all([import('@aws-sdk/client-s3'), import('@aws-sdk/lib-storage')]);
  return { ...s3, Upload: storage.Upload };
}

/**
 * A blob store in an S3-compatible bucket under `prefix` (empty, or ending in `/`). Writes are
 * streamed as multipart uploads, so a blob of any size needs only a few parts' worth of memory.
 * The SDK and its client are created at the first call (see `loadSdk`).
 */
export function createS3BlobStore(bucket: string, prefix: string, settings: S3Settings): BlobStore {
  let loading: ReturnType<typeof connect> | undefined;
  const connect = async () => {
    const sdk = await loadSdk();
    return { sdk, client: new sdk.S3Client(s3ClientConfig(settings)) };
  };
  const sdk = () =>
    (loading ??= connect().catch((err: unknown) => {
      loading = undefined; // tried again at the next call
      throw err;
    }));
  const key = (name: string) => prefix + name;
  const urlOf = (k: string) => `s3://${bucket}/${k}`;

  return {
    url: prefix ? urlOf(prefix.replace(/\/+$/, '')) : `s3://${bucket}`,

    async put(name: string, body: Readable, options: { contentType?: string } = {}): Promise<PutResult> {
      try {
        assertPlainName(name);
      } catch (err) {
        body.destroy();
        throw err;
      }
      let connected: Awaited<ReturnType<typeof sdk>>;
      try {
        connected = await sdk();
      } catch (err) {
        body.destroy();
        throw err;
      }
      const { client, sdk: aws } = connected;
      let bytes = 0;
      const counter = new Transform({
        transform(chunk: Buffer | string, _encoding, callback) {
          bytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
          callback(null, chunk);
        },
      });
      // Upload sends one PutObject for a body that fits in a part, else a multipart upload that
      // S3 shows only once it is completed. leavePartsOnError false: when the body or a part
      // fails, Upload aborts the multipart upload itself so no parts are left behind (and billed).
      const upload = new aws.Upload({
        client,
        params: { Bucket: bucket, Key: key(name), Body: counter, ContentType: options.contentType },
        partSize: PART_SIZE,
        queueSize: QUEUE_SIZE,
        leavePartsOnError: false,
      });
      // Which side failed first decides the error put rejects with: when Upload stops reading
      // (e.g. the server is unreachable) the pipeline only sees an AbortError, and when the body
      // fails Upload only sees its source break (or fails to abort): the cause is the one to report.
      // The body's own failure is one that comes while `counter` is still open; once the pipeline
      // tears down (whatever the cause) it destroys `body` with the same error.
      let bodyError: unknown;
      body.once('error', (err) => {
        if (!counter.destroyed) bodyError = err;
      });
      const feeding = pipeline(body, counter);
      const uploading = upload.done().catch((err: unknown) => {
        // Nothing reads `counter` any more: end the pipeline too (it also destroys `body`).
        counter.destroy(err instanceof Error ? err : new Error(String(err)));
        throw err;
      });
      // Wait for both, so that by the time put settles the upload has been completed or aborted
      // and the body released.
      const [fed, uploaded] = await Promise.allSettled([feeding, uploading]);
      if (bodyError !== undefined) throw bodyError;
      if (uploaded.status === 'rejected') throw uploaded.reason;
      if (fed.status === 'rejected') throw fed.reason;
      return { name, url: urlOf(key(name)), bytes };
    },

    async get(name: string): Promise<Readable> {
      assertPlainName(name);
      const { client, sdk: aws } = await sdk();
      try {
        const answer = await client.send(new aws.GetObjectCommand({ Bucket: bucket, Key: key(name) }));
        // In Node the SDK's body is an http.IncomingMessage (a Readable) with helper methods.
        return answer.Body as Readable;
      } catch (err) {
        const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
        if (e.name === 'NoSuchKey' || e.name === 'NotFound' || e.$metadata?.httpStatusCode === 404) {
          throw new BlobNotFound(name);
        }
        throw err;
      }
    },

    async list(): Promise<string[]> {
      const { client, sdk: aws } = await sdk();
      const names: string[] = [];
      // Delimiter '/': only the blobs directly under the prefix, like the file store's directory.
      const pages = aws.paginateListObjectsV2({ client }, { Bucket: bucket, Prefix: prefix, Delimiter: '/' });
      for await (const page of pages) {
        for (const object of page.Contents ?? []) {
          if (object.Key && object.Key.length > prefix.length) names.push(object.Key.slice(prefix.length));
        }
      }
      return names.sort();
    },
  };
}
