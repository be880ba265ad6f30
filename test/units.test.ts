import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { type TestContext, test } from 'node:test';
import { connect } from 'nats';
import { MODES, type TestApp, build, buildMode, dropSchema, uniqueSchema, until } from './helpers.js';
import { needService, services } from './services.js';

const at = (minute: number) => new Date(Date.UTC(2024, 5, 1, 0, minute)).toISOString();

/** Server mode with NATS between ingest and persistor: the units cross the bus encoded. */
async function buildNats(t: TestContext): Promise<TestApp | undefined> {
  if (!(await needService(t, 'postgres')) || !(await needService(t, 'nats'))) return undefined;
  const schema = uniqueSchema();
  const stream = `TEST_UNITS_${randomBytes(4).toString('hex').toUpperCase()}`;
  t.after(async () => {
    await dropSchema(schema);
    const nc = await connect({ servers: services.nats.url });
    const jsm = await nc.jetstreamManager();
    for await (const name of jsm.streams.names()) if (name.startsWith(`${stream}_`)) await jsm.streams.delete(name);
    await nc.close();
  });
  return build(t, {
    databaseUrl: services.postgres.url,
    'store.schema': schema,
    busUrl: services.nats.url,
    'bus.stream': stream,
  });
}

for (const mode of [...MODES, 'nats'] as const) {
  test(`a unit or kind sent on an ingest line is recorded in the catalog; lines without one leave it (${mode})`, async (t) => {
    const w = mode === 'nats' ? await buildNats(t) : await buildMode(t, mode);
    if (!w) return;
    const sent = await w.ingest([
      { series: 'home/meter/power', value: 1200, ts: at(0), unit: 'W' },
      { series: 'home/meter/power', value: 1300, ts: at(1) },
      { series: 'home/meter/energy', value: 10.5, ts: at(0), unit: 'kWh' },
      { series: 'home/room/temp', value: 21, ts: at(0) },
      { series: 'home/room/temp', value: 21, ts: at(1), unit: 12 },
    ]);
    assert.equal(sent.status, 400);
    assert.equal(sent.body.invalid.length, 1);
    assert.equal(sent.body.invalid[0].line, 5);
    assert.match(sent.body.invalid[0].error, /^unit must be one of W, kW, .* \(got 12\)$/);
    const units = async () =>
      Object.fromEntries(
        (await w.request('/api/v1/series')).body.series.map((s: { key: string; unit: string | null }) => [
          s.key,
          s.unit,
        ]),
      );
    // over NATS an acknowledged reading is durable on the bus and reaches the catalog a moment later
    const expectUnits = async (expected: Record<string, string | null>) => {
      const same = async () => JSON.stringify(await units()) === JSON.stringify(expected);
      await until(same, 10_000, 'the units').catch(() => undefined);
      assert.deepEqual(await units(), expected);
    };
    await expectUnits({ 'home/meter/energy': 'kWh', 'home/meter/power': 'W', 'home/room/temp': null });

    // a later line with another unit changes it; a line without one does not clear it
    await w.ingest([
      { series: 'home/meter/power', value: 1.3, ts: at(2), unit: 'kW' },
      { series: 'home/meter/energy', value: 10.6, ts: at(2) },
    ]);
    await expectUnits({ 'home/meter/energy': 'kWh', 'home/meter/power': 'kW', 'home/room/temp': null });

    // a kind on a line sets the series' kind, keeping its unit; an unknown kind is refused by line
    const kinds = await w.ingest([
      { series: 'home/meter/energy', value: 10.7, ts: at(3), kind: 'counter' },
      { series: 'home/meter/power', value: 1.2, ts: at(3), kind: 'meter' },
    ]);
    assert.equal(kinds.status, 400);
    assert.deepEqual(
      kinds.body.invalid.map((l: { line: number; error: string }) => [l.line, l.error]),
      [[2, 'kind must be one of gauge, counter, interval (got "meter")']],
    );
    const kindOf = async () =>
      (await w.request('/api/v1/series?prefix=home/meter/energy')).body.series.map(
        (e: { unit: string; kind: string }) => `${e.unit} ${e.kind}`,
      );
    await until(async () => (await kindOf())[0] === 'kWh counter', 10_000, 'the kind').catch(() => undefined);
    assert.deepEqual(await kindOf(), ['kWh counter']);
  });
}
