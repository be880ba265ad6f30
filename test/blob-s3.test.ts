import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { BlobNotFound } from '../src/core/blob/index.js';
import { BUCKET, s3rver, type Logged } from './s3.js';

const MB = 1024 * 1024;

/** The S3 operations in a log, named as in the S3 API. */
function operations(log: Logged[]): string[] {
  return log.map(({ method, url }) => {
    const query = new URL(url, 'http://x').searchParams;
    if (method === 'POST' && query.has('uploads')) return 'CreateMultipartUpload';
    if (method === 'PUT' && query.has('uploadId')) return `UploadPart ${query.get('partNumber')}`;
    if (method === 'POST' && query.has('uploadId')) return 'CompleteMultipartUpload';
    if (method === 'DELETE' && query.has('uploadId')) return 'AbortMultipartUpload';
    if (method === 'PUT') return 'PutObject';
    if (method === 'GET' && query.get('list-type') === '2') return 'ListObjectsV2';
    if (method === 'GET') return 'GetObject';
    return `${method} ${url}`;
  });
}

const DUMPS = `s3://${BUCKET}/dumps/daily`;

/** `size` bytes of reproducible data in 64 KiB chunks, generated as they are read. */
function generated(size: number, seed: string, failAfter = Infinity): Readable {
  return Readable.from(
    (function* () {
      let block = createHash('sha256').update(seed).digest();
      for (let sent = 0; sent < size; ) {
        if (sent >= failAfter) throw new Error('dump query failed');
        const chunk = Buffer.alloc(Math.min(64 * 1024, size - sent));
        for (let i = 0; i < chunk.length; i += 32) {
          block = createHash('sha256').update(block).digest();
          block.copy(chunk, i);
        }
        sent += chunk.length;
        yield chunk;
      }
    })(),
  );
}

async function digest(stream: Readable): Promise<{ bytes: number; sha256: string }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of stream) {
    hash.update(chunk);
    bytes += chunk.length;
  }
  return { bytes, sha256: hash.digest('hex') };
}

test('a 13 MB stream goes up as a multipart upload and comes back byte for byte', { timeout: 60_000 }, async (t) => {
  const { open, log } = await s3rver(t);
  const store = open(DUMPS);
  const size = 13 * MB + 12_345; // three 5 MB parts, the last one short
  const result = await store.put('2026-03-29.json.gz', generated(size, 'day'), { contentType: 'application/gzip' });
  assert.deepEqual(result, {
    name: '2026-03-29.json.gz',
    url: `s3://${BUCKET}/dumps/daily/2026-03-29.json.gz`,
    bytes: size,
  });
  assert.equal(store.url, `s3://${BUCKET}/dumps/daily`);
  // Parts go up concurrently, so they may finish in any order.
  const ops = operations(log);
  assert.deepEqual(
    [ops[0], ...ops.slice(1, -1).sort(), ops.at(-1)],
    ['CreateMultipartUpload', 'UploadPart 1', 'UploadPart 2', 'UploadPart 3', 'CompleteMultipartUpload'],
  );
  assert.ok(
    log.every((l) => l.status === 200),
    JSON.stringify(log),
  );
  assert.deepEqual(await digest(await store.get('2026-03-29.json.gz')), await digest(generated(size, 'day')));
  assert.deepEqual(await store.list(), ['2026-03-29.json.gz']);
});

test('list shows only the blobs under the prefix, without it, sorted', async (t) => {
  const { open } = await s3rver(t);
  const store = open(DUMPS);
  assert.deepEqual(await store.list(), []);
  await store.put('b.csv.gz', Readable.from(['b']));
  await store.put('a.csv.gz', Readable.from(['a']));
  await open(`s3://${BUCKET}/dumps`).put('c.csv.gz', Readable.from(['c']));
  await open(`s3://${BUCKET}/dumps/daily-old`).put('d.csv.gz', Readable.from(['d']));
  assert.deepEqual(await store.list(), ['a.csv.gz', 'b.csv.gz']);
  assert.deepEqual(await open(`s3://${BUCKET}/dumps/`).list(), ['c.csv.gz'], 'not the ones further down');
  assert.deepEqual(await open(`s3://${BUCKET}`).list(), [], 'no prefix: the top of the bucket');
  await assert.rejects(store.get('c.csv.gz'), (err: Error) => err instanceof BlobNotFound && err.blob === 'c.csv.gz');
});

test('writing a name again replaces the object', { timeout: 60_000 }, async (t) => {
  const { open } = await s3rver(t);
  const store = open(DUMPS);
  await store.put('day.csv.gz', generated(6 * MB, 'first'));
  await store.put('day.csv.gz', Readable.from(['small second version']));
  assert.deepEqual(await digest(await store.get('day.csv.gz')), await digest(Readable.from(['small second version'])));
  assert.deepEqual(await store.list(), ['day.csv.gz']);
  assert.equal((await store.put('day.csv.gz', Readable.from([]))).bytes, 0, 'an empty body is a blob too');
  assert.equal((await digest(await store.get('day.csv.gz'))).bytes, 0);
});

test('a body that fails mid-upload leaves no object, and an earlier version intact', { timeout: 60_000 }, async (t) => {
  const { open, log } = await s3rver(t);
  const store = open(DUMPS);
  // Fails after two full parts have been sent: the multipart upload exists but is never completed.
  await assert.rejects(store.put('new.csv.gz', generated(20 * MB, 'x', 11 * MB)), /dump query failed/);
  await assert.rejects(store.get('new.csv.gz'), BlobNotFound);
  // Never completed, and the upload was aborted. (s3rver does not implement AbortMultipartUpload
  // and answers 405, which is why the body's error, not Upload's, is what put must reject with.)
  const ops = operations(log);
  assert.equal(ops[0], 'CreateMultipartUpload');
  assert.ok(ops.includes('UploadPart 1') && ops.includes('AbortMultipartUpload'), ops.join(', '));
  assert.ok(!ops.includes('CompleteMultipartUpload'), ops.join(', '));

  await store.put('day.csv.gz', generated(7 * MB, 'good'));
  await assert.rejects(store.put('day.csv.gz', generated(20 * MB, 'bad', 11 * MB)), /dump query failed/);
  await assert.rejects(
    store.put('day.csv.gz', generated(20 * MB, 'bad', 1 * MB)),
    /dump query failed/,
    'fails inside the first part',
  );
  assert.deepEqual(await digest(await store.get('day.csv.gz')), await digest(generated(7 * MB, 'good')));
  assert.deepEqual(await store.list(), ['day.csv.gz']);
});
