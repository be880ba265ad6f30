import assert from 'node:assert/strict';
import { test } from 'node:test';
import { status } from '@grpc/grpc-js';
import { Forbidden, InvalidInput, NotFound, Overloaded, RateLimited, Unauthorized, WattlineError } from '../errors.js';
import { SubscriberTooSlow } from '../live/bounded-subscriber.js';
import { peerAddress } from './server.js';
import { toGrpcStatus } from './status.js';

test('each error class becomes the gRPC code its HTTP status stands for, with its message', () => {
  const check = (err: unknown, code: status, details: string, internal = false) =>
    assert.deepEqual(toGrpcStatus(err), { code, details, internal }, String(err));
  check(new InvalidInput('invalid_window', 'invalid window: 2h'), status.INVALID_ARGUMENT, 'invalid window: 2h');
  check(new Unauthorized('no credentials provided'), status.UNAUTHENTICATED, 'no credentials provided');
  check(new Forbidden('needs the admin scope'), status.PERMISSION_DENIED, 'needs the admin scope');
  check(new NotFound('no such series'), status.NOT_FOUND, 'no such series');
  check(new RateLimited(1), status.RESOURCE_EXHAUSTED, 'rate limit exceeded');
  check(new SubscriberTooSlow('subscriber fell behind'), status.RESOURCE_EXHAUSTED, 'subscriber fell behind');
  check(new Overloaded('write queue full', 1), status.UNAVAILABLE, 'write queue full');
  check(
    new WattlineError('query_failed', 'query failed: store error'),
    status.INTERNAL,
    'query failed: store error',
    true,
  );
  // anything else is ours and unexplained: the client never sees its text
  check(new Error('connection to 10.0.0.5:5432 refused'), status.INTERNAL, 'internal error', true);
});

test('a client is its address, whatever port it connects from', () => {
  assert.equal(peerAddress('127.0.0.1:53122'), '127.0.0.1');
  assert.equal(peerAddress('::1:53122'), '::1');
  assert.equal(peerAddress('[::1]:53122'), '::1');
  assert.equal(peerAddress('::ffff:10.1.2.3:443'), '::ffff:10.1.2.3');
});
