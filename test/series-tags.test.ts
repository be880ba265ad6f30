import assert from 'node:assert/strict';
import { test } from 'node:test';
import { READINGS_TOPIC, ReadingBatchBuilder } from '../src/core/readings.js';
import { buildMode, MODES } from './helpers.js';

for (const mode of MODES)
  test(`tags sent with readings are kept in the catalog, merged, and filter the listing (${mode})`, async (t) => {
    const w = await buildMode(t, mode);
    if (!w) return;
    const publish = async (series: string, tags: Record<string, string>, ts: number) => {
      const b = new ReadingBatchBuilder(1);
      const k = b.addKey(series);
      b.setMeta(k, { tags });
      b.push(k, ts, 1);
      await w.app.ctx.bus.publish(READINGS_TOPIC, b.take());
    };
    await publish('home/kitchen/temp', { room: 'kitchen', floor: '0' }, 1_700_000_000_000);
    await publish('home/attic/temp', { room: 'attic', floor: '2' }, 1_700_000_000_000);
    await publish('home/kitchen/temp', { sensor: 'dht22' }, 1_700_000_060_000);
    const kitchen = await w.request('/api/v1/series?tag.room=kitchen');
    assert.equal(kitchen.status, 200, JSON.stringify(kitchen.body));
    assert.deepEqual(
      kitchen.body.series.map((s: { key: string; tags: unknown }) => [s.key, s.tags]),
      [['home/kitchen/temp', { room: 'kitchen', floor: '0', sensor: 'dht22' }]],
    );
    const both = await w.request('/api/v1/series?tag.floor=2&tag.room=attic');
    assert.deepEqual(
      both.body.series.map((s: { key: string }) => s.key),
      ['home/attic/temp'],
    );
    assert.deepEqual((await w.request('/api/v1/series?tag.room=cellar')).body.series, []);
    assert.equal((await w.request('/api/v1/series/home/attic/temp')).body.tags.floor, '2');
  });
