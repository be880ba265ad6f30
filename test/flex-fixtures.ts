import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { dropSchema, type Mode, type TestApp, tempDir, uniqueSchema } from './helpers.js';
import { needService, services } from './services.js';

/** Monday 3 June 2024, 10:00 UTC = 11:00 in London (BST): the tests' "now". */
export const T0 = Date.UTC(2024, 5, 3, 10, 0);
export const MINUTE = 60_000;
export const ZONE = 'Europe/London';

/** Settings of a flex test app: London time, fast schedules (the injected clock decides what is due). */
export const FLEX_SETTINGS = { timezone: ZONE, 'flex.schedulerMs': 20, 'flex.autoAnswerMs': 20 };

/** A clock the test moves by hand. */
export function testClock(startMs = T0) {
  const clock = { ms: startMs, now: () => clock.ms };
  return clock;
}

export const jsonInit = (method: string, body: unknown): RequestInit => ({
  method,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});

export const DR = '/api/v1/demand-response';

/** Registers a sensor through the buildings API (its series `sensors/<id>`, the type's unit and kind). */
export async function addDevice(w: TestApp, id: string, sensorType: 'power' | 'energy' = 'power') {
  const r = await w.request('/api/v1/sensors', jsonInit('POST', { sensor_id: id, name: id, sensor_type: sensorType }));
  assert.equal(r.status, 201, JSON.stringify(r.body));
}

/** Sends an invitation; answers the reply (asserting 201). */
export async function invite(w: TestApp, body: Record<string, unknown>) {
  const r = await w.request(`${DR}/invitation/send`, jsonInit('POST', body));
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body;
}

/**
 * Where a test's apps keep their data in a mode: a data directory, and in server mode a PostgreSQL
 * schema of its own (dropped when the test ends). The same place again is a restart. Undefined when
 * the mode's services are missing (the test is then skipped with the reason).
 */
export async function placeFor(
  t: TestContext,
  mode: Mode,
): Promise<{ dataDir: string; overrides: Record<string, unknown> } | undefined> {
  if (mode === 'embedded') return { dataDir: tempDir(), overrides: {} };
  if (!(await needService(t, 'postgres'))) return undefined;
  const schema = uniqueSchema();
  t.after(() => dropSchema(schema));
  return { dataDir: tempDir(), overrides: { databaseUrl: services.postgres.url, 'store.schema': schema } };
}
