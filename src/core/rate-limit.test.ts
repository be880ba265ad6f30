import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RateLimited } from './errors.js';
import { clientId, createRateLimiter } from './rate-limit.js';

test('a client may send its burst at once, then is refused with a retry time; others are not affected', async () => {
  const limiter = createRateLimiter({ perSecond: 5, burst: 10 })!;
  for (let i = 0; i < 10; i++) await limiter.consume('a');
  await assert.rejects(
    limiter.consume('a'),
    (err: Error) => err instanceof RateLimited && err.message === 'rate limit exceeded' && err.retryAfterS >= 1,
  );
  await limiter.consume('b');
});

test('a rate of 0 means no limiter', () => {
  assert.equal(createRateLimiter({ perSecond: 0, burst: 10 }), undefined);
});

test('a client is its API key when it sends one, else its address; keys are not kept in clear', () => {
  assert.equal(clientId(undefined, '10.0.0.1'), 'addr:10.0.0.1');
  assert.equal(clientId('secret-key-1', '10.0.0.1'), clientId('secret-key-1', '10.0.0.2'));
  assert.notEqual(clientId('secret-key-1', '10.0.0.1'), clientId('secret-key-2', '10.0.0.1'));
  assert.ok(!clientId('secret-key-1', '10.0.0.1').includes('secret'));
});
