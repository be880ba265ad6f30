import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Unavailable } from '../errors.js';
import { isDiskFull, isStoreUnreachable, storeError } from './unavailable.js';

const withCode = (code: string, message = 'x') => Object.assign(new Error(message), { code });

function check(err: unknown, unreachable: boolean) {
  assert.equal(isStoreUnreachable(err), unreachable, String((err as Error)?.message ?? err));
}

test('an unreachable store is told apart from a statement the store refuses', () => {
  // the store is not there, or cannot serve now: wait and try again
  check(withCode('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432'), true);
  check(withCode('ECONNRESET', 'read ECONNRESET'), true);
  check(withCode('57P01', 'terminating connection due to administrator command'), true);
  check(withCode('57P03', 'the database system is starting up'), true);
  check(withCode('08006', 'connection failure'), true);
  check(withCode('53300', 'sorry, too many clients already'), true);
  check(new Error('Connection terminated unexpectedly'), true);
  check(new Error('Client has encountered a connection error and is not queryable'), true);
  check(new AggregateError([withCode('ECONNREFUSED'), withCode('ECONNREFUSED')], 'connect failed'), true);
  check(new Error('commit failed', { cause: withCode('57P01') }), true);
  // the store answered and refused: retrying never helps
  check(withCode('23514', 'new row violates check constraint'), false);
  check(withCode('22003', 'bigint out of range'), false);
  check(withCode('42P01', 'relation "readings" does not exist'), false);
  check(new Error('reading batch is truncated'), false);
  check(undefined, false);
});

test('an unreachable store becomes Unavailable (503 with Retry-After) without the driver’s words; a refusal stays as it is', () => {
  const refused = withCode('23505', 'duplicate key value violates unique constraint');
  assert.equal(storeError(refused), refused);
  const down = withCode('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432');
  const wrapped = storeError(down);
  assert.ok(wrapped instanceof Unavailable);
  assert.equal(wrapped.status, 503);
  assert.equal(wrapped.service, 'store');
  assert.ok(wrapped.retryAfterS > 0);
  assert.doesNotMatch(wrapped.message, /ECONNREFUSED|5432/);
  assert.equal(wrapped.cause, down);
  assert.equal(storeError(wrapped), wrapped);
});

test('a full disk (DuckDB’s words, ENOSPC, PostgreSQL’s 53100) is an outage too: 503 store_disk_full, retried later', () => {
  const duck = new Error(
    'TransactionContext Error: Failed to commit: Could not write file "/data/wattline.duckdb.wal": No space left on device',
  );
  for (const err of [duck, withCode('ENOSPC', 'write failed'), withCode('53100', 'could not extend file')]) {
    assert.equal(isDiskFull(err), true, (err as Error).message);
    const wrapped = storeError(err);
    assert.ok(wrapped instanceof Unavailable);
    assert.equal(wrapped.code, 'store_disk_full');
    assert.equal(wrapped.retryAfterS, 10);
    assert.doesNotMatch(wrapped.message, /wattline\.duckdb|53100/);
    assert.equal(isDiskFull(wrapped), true);
  }
  assert.equal(isDiskFull(withCode('23505', 'duplicate key')), false);
  assert.equal(isDiskFull(storeError(withCode('ECONNREFUSED'))), false);
});
