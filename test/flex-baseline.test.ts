import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DateTime } from 'luxon';
import {
  adjustmentWindow,
  bl01,
  deliveredKwh,
  eventFigures,
  eventSlots,
  localHalfHourStart,
  planDay,
  planEvent,
} from '../src/modules/flex/baseline.js';

// March 2026: Sunday the 1st, so Saturdays 7, 14, 21 and Sundays 8, 15, 22; Thursday the 19th.
// London is on GMT until 29 March: local times are UTC.
const LONDON = 'Europe/London';
const NONE = new Set<string>();

/** Epoch ms of a local wall-clock time. */
const at = (date: string, time: string, zone = LONDON) => DateTime.fromISO(`${date}T${time}`, { zone }).toMillis();

/** kWh of every half-hour of the local days `from`..`to`, from `kwh(date, 'HH:mm')` (undefined: no value). */
function halfHourly(
  from: string,
  to: string,
  kwh: (date: string, time: string) => number | undefined,
  zone = LONDON,
): Map<number, number> {
  const out = new Map<number, number>();
  for (let day = DateTime.fromISO(from, { zone }); day.toISODate()! <= to; day = day.plus({ days: 1 })) {
    const end = day.plus({ days: 1 });
    for (let t = day; t < end; t = t.plus({ minutes: 30 })) {
      const v = kwh(day.toISODate()!, t.toFormat('HH:mm'));
      if (v !== undefined) out.set(t.toMillis(), v);
    }
  }
  return out;
}

const isWeekend = (date: string) => DateTime.fromISO(date).weekday >= 6;
const dayOfMonth = (date: string) => Number(date.slice(8));
const near = (actual: number | null | undefined, expected: number, what = 'value') =>
  assert.ok(typeof actual === 'number' && Math.abs(actual - expected) < 1e-9, `${what}: ${actual} ≠ ${expected}`);

/**
 * A working-day load: 0.5 kWh a half-hour, except at 17:00 where a working day in March uses
 * (its day of the month ÷ 10) kWh and 17:30 1 kWh; weekends and earlier months use 9 kWh at both,
 * which would show at once in any mean that wrongly took them. On the event day 19 March: 0.25 kWh
 * at 17:00 and 1.2 kWh at 17:30.
 */
function workingLoad(date: string, time: string): number | undefined {
  if (date === '2026-03-19') return time === '17:00' ? 0.25 : time === '17:30' ? 1.2 : 0.5;
  if (time !== '17:00' && time !== '17:30') return 0.5;
  if (isWeekend(date) || date < '2026-03-01') return 9;
  return time === '17:00' ? dayOfMonth(date) / 10 : 1;
}

const EVENT = { startMs: at('2026-03-19', '17:00'), durationMinutes: 60 };
const calendar = (extra: { eventDays?: Set<string>; holidays?: Set<string>; zone?: string } = {}) => ({
  zone: extra.zone ?? LONDON,
  eventDays: extra.eventDays ?? NONE,
  holidays: extra.holidays ?? NONE,
});

test('BL01 on a working day: the mean of the same half-hour on the 10 most recent working days, older ones unused', () => {
  const energy = halfHourly('2026-01-01', '2026-03-19', workingLoad);
  const figures = eventFigures(planEvent(EVENT, calendar()), energy, false);
  // the 10 working days before Thursday 19 March: 18, 17, 16, 13, 12, 11, 10, 9, 6, 5 (4, 3, 2 and
  // the weekends are there too, and unused)
  assert.deepEqual(figures.daysUsed, [
    '2026-03-05',
    '2026-03-06',
    '2026-03-09',
    '2026-03-10',
    '2026-03-11',
    '2026-03-12',
    '2026-03-13',
    '2026-03-16',
    '2026-03-17',
    '2026-03-18',
  ]);
  assert.equal(figures.baseline, 'complete');
  assert.equal(figures.incomplete, false);
  assert.equal(figures.reason, undefined);
  assert.equal(figures.adjustment, undefined, 'no adjustment asked for');
  assert.deepEqual(
    figures.slots.map((s) => s.time),
    [at('2026-03-19', '17:00'), at('2026-03-19', '17:30')],
  );
  // 17:00: (5 + 6 + 9 + 10 + 11 + 12 + 13 + 16 + 17 + 18) / 10 / 10 = 117 / 100 = 1.17 kWh
  near(figures.slots[0].baselineKwh, 1.17, 'baseline 17:00');
  near(figures.slots[1].baselineKwh, 1, 'baseline 17:30');
  assert.equal(figures.slots[0].actualKwh, 0.25);
  assert.equal(figures.slots[1].actualKwh, 1.2);
  // delivered: max(0, 1.17 − 0.25) = 0.92 and max(0, 1 − 1.2) = 0 (more used than the baseline: no
  // negative delivery), 0.92 kWh in all
  near(figures.slots[0].deliveredKwh, 0.92, 'delivered 17:00');
  assert.equal(figures.slots[1].deliveredKwh, 0);
  near(figures.totalDeliveredKwh, 0.92, 'total delivered');
});

test('BL01 with only 6 working days that have every half-hour: their mean, marked incomplete', () => {
  // nothing before 11 March: the working days are 11, 12, 13, 16, 17, 18
  const energy = halfHourly('2026-03-11', '2026-03-19', workingLoad);
  const figures = eventFigures(planEvent(EVENT, calendar()), energy, false);
  assert.equal(figures.baseline, 'incomplete');
  assert.equal(figures.incomplete, true);
  assert.deepEqual(figures.daysUsed, [
    '2026-03-11',
    '2026-03-12',
    '2026-03-13',
    '2026-03-16',
    '2026-03-17',
    '2026-03-18',
  ]);
  assert.match(figures.reason ?? '', /only 6 working days .* BL01 wants 10/);
  // 17:00: (11 + 12 + 13 + 16 + 17 + 18) / 6 / 10 = 87 / 60 = 1.45 kWh; delivered 1.45 − 0.25 = 1.2
  near(figures.slots[0].baselineKwh, 1.45, 'baseline 17:00');
  near(figures.totalDeliveredKwh, 1.2, 'total delivered');
});

test('BL01 with fewer than 5 working days: no baseline, and the reason says why', () => {
  // from 13 March: 13, 16, 17, 18 (4 days)
  const energy = halfHourly('2026-03-13', '2026-03-19', workingLoad);
  const figures = eventFigures(planEvent(EVENT, calendar()), energy, true);
  assert.equal(figures.baseline, 'none');
  assert.equal(figures.incomplete, true);
  assert.deepEqual(figures.daysUsed, []);
  assert.match(figures.reason ?? '', /^no baseline: only 4 working days .* at least 5 needed/);
  for (const s of figures.slots) {
    assert.equal(s.baselineKwh, null);
    assert.equal(s.deliveredKwh, null);
  }
  assert.ok(figures.slots[0].actualKwh === 0.25, 'the actual energy is still shown');
  assert.equal(figures.totalDeliveredKwh, 0);
  assert.equal(figures.adjustment, null);
  assert.equal(figures.adjustmentReason, 'no baseline to adjust');
});

test('BL01 leaves out a day with another event and a day missing any half-hour, and looks further back', () => {
  // 12 March lacks 03:00, far from the event's half-hours: the whole day goes all the same
  const energy = halfHourly('2026-01-01', '2026-03-19', (date, time) =>
    date === '2026-03-12' && time === '03:00' ? undefined : workingLoad(date, time),
  );
  const figures = eventFigures(
    planEvent(EVENT, calendar({ eventDays: new Set(['2026-03-17', '2026-03-14']) })),
    energy,
    false,
  );
  // 17 (event) and 12 (missing 03:00) out, 4 and 3 March in: 3, 4, 5, 6, 9, 10, 11, 13, 16, 18
  assert.deepEqual(
    figures.daysUsed.map((d) => dayOfMonth(d)),
    [3, 4, 5, 6, 9, 10, 11, 13, 16, 18],
  );
  assert.equal(figures.baseline, 'complete');
  // (3 + 4 + 5 + 6 + 9 + 10 + 11 + 13 + 16 + 18) / 100 = 95 / 100
  near(figures.slots[0].baselineKwh, 0.95, 'baseline 17:00');
});

test('BL01 leaves holidays out of a working-day baseline', () => {
  const energy = halfHourly('2026-01-01', '2026-03-19', workingLoad);
  const figures = eventFigures(planEvent(EVENT, calendar({ holidays: new Set(['2026-03-16']) })), energy, false);
  // Monday 16 March a holiday: 4, 5, 6, 9, 10, 11, 12, 13, 17, 18 → 105 / 100
  assert.deepEqual(
    figures.daysUsed.map((d) => dayOfMonth(d)),
    [4, 5, 6, 9, 10, 11, 12, 13, 17, 18],
  );
  near(figures.slots[0].baselineKwh, 1.05, 'baseline 17:00');
});

test('BL01 leaves out a working day whose clock changed (Asia/Jerusalem changes on Friday 27 March 2026)', () => {
  const zone = 'Asia/Jerusalem';
  // the 17:00 half-hour of a working day in March uses its day of the month ÷ 10 kWh, as above
  const energy = halfHourly(
    '2026-02-01',
    '2026-03-31',
    (date, time) => (time === '17:00' && !isWeekend(date) && date >= '2026-03-01' ? dayOfMonth(date) / 10 : 0.5),
    zone,
  );
  const event = { startMs: at('2026-03-31', '17:00', zone), durationMinutes: 30 };
  const figures = eventFigures(planEvent(event, calendar({ zone })), energy, false);
  // Tuesday 31 March: 30, 26, 25, 24, 23, 20, 19, 18, 17, 16 (Friday 27 has 46 half-hours: out)
  assert.deepEqual(
    figures.daysUsed.map((d) => dayOfMonth(d)),
    [16, 17, 18, 19, 20, 23, 24, 25, 26, 30],
  );
  // (16 + 17 + 18 + 19 + 20 + 23 + 24 + 25 + 26 + 30) / 100 = 218 / 100 (229 / 100 had 27 been taken)
  near(figures.slots[0].baselineKwh, 2.18, 'baseline 17:00');
});

/**
 * A weekend load: 0.5 kWh a half-hour, and at 17:00 and 17:30 on the four weekend days before
 * Saturday 21 March: 15th 1 + 1 = 2 kWh, 14th 3 + 1 = 4, 8th 0.5 + 0.5 = 1, 7th 2.5 + 2.5 = 5;
 * on any other weekend day 9 + 9 (never to be used).
 */
function weekendLoad(date: string, time: string): number | undefined {
  if (time !== '17:00' && time !== '17:30') return 0.5;
  const first = time === '17:00';
  switch (date) {
    case '2026-03-15':
      return 1;
    case '2026-03-14':
      return first ? 3 : 1;
    case '2026-03-08':
      return 0.5;
    case '2026-03-07':
      return 2.5;
    case '2026-03-21':
      return first ? 0.5 : 2; // the event
    default:
      return isWeekend(date) ? 9 : 0.5;
  }
}
const SATURDAY_EVENT = { startMs: at('2026-03-21', '17:00'), durationMinutes: 60 };

test('BL01 on a weekend: of the four most recent weekend days ranked by energy over the event, the mean of the middle two', () => {
  const energy = halfHourly('2026-01-01', '2026-03-21', weekendLoad);
  const figures = eventFigures(planEvent(SATURDAY_EVENT, calendar()), energy, false);
  // ranked by kWh over 17:00–18:00: 8th (1) < 15th (2) < 14th (4) < 7th (5); the middle two are the
  // 15th and the 14th (the 14th has the highest 17:00 of all, but the ranking is over the event)
  assert.deepEqual(figures.daysUsed, ['2026-03-14', '2026-03-15']);
  assert.equal(figures.baseline, 'complete');
  near(figures.slots[0].baselineKwh, (1 + 3) / 2, 'baseline 17:00'); // 2
  near(figures.slots[1].baselineKwh, (1 + 1) / 2, 'baseline 17:30'); // 1
  // delivered: max(0, 2 − 0.5) = 1.5 and max(0, 1 − 2) = 0
  near(figures.totalDeliveredKwh, 1.5, 'total delivered');
});

test('BL01 on a holiday uses weekend days and holidays alike', () => {
  const energy = halfHourly('2026-01-01', '2026-03-21', weekendLoad);
  // Friday 20 March a holiday, and Monday 16 March too: the four before the 20th are 16, 15, 14, 8;
  // the 16th (a weekday: 0.5 + 0.5 = 1 kWh) ties with the 8th and ranks above it, being later:
  // 8th (1) < 16th (1) < 15th (2) < 14th (4) → the 16th and the 15th
  const holidays = new Set(['2026-03-16', '2026-03-20']);
  const event = { startMs: at('2026-03-20', '17:00'), durationMinutes: 60 };
  const figures = eventFigures(planEvent(event, calendar({ holidays })), energy, false);
  assert.deepEqual(figures.daysUsed, ['2026-03-15', '2026-03-16']);
  near(figures.slots[0].baselineKwh, (0.5 + 1) / 2, 'baseline 17:00');
});

test('BL01 on a weekend with 3 days takes the middle one (incomplete), with 1 none', () => {
  // from 8 March: the 15th (2), the 14th (4) and the 8th (1) → the middle one is the 15th
  const three = eventFigures(
    planEvent(SATURDAY_EVENT, calendar()),
    halfHourly('2026-03-08', '2026-03-21', weekendLoad),
    false,
  );
  assert.equal(three.baseline, 'incomplete');
  assert.deepEqual(three.daysUsed, ['2026-03-15']);
  assert.match(three.reason ?? '', /only 3 non-working days .* BL01 wants 4/);
  near(three.slots[0].baselineKwh, 1, 'baseline 17:00');
  near(three.slots[1].baselineKwh, 1, 'baseline 17:30');

  const one = eventFigures(
    planEvent(SATURDAY_EVENT, calendar()),
    halfHourly('2026-03-15', '2026-03-21', weekendLoad),
    false,
  );
  assert.equal(one.baseline, 'none');
  assert.match(one.reason ?? '', /only 1 non-working days .* at least 2 needed/);
});

test('BL01 on a weekend leaves out the clock-change Sunday (Europe/London, 25 October 2026: 50 half-hours)', () => {
  // noon on the weekend days before Sunday 1 November: 31st 4 kWh, 25th 100, 24th 1, 18th 3, 17th 2
  const noon: Record<string, number> = {
    '2026-10-31': 4,
    '2026-10-25': 100,
    '2026-10-24': 1,
    '2026-10-18': 3,
    '2026-10-17': 2,
  };
  const energy = halfHourly('2026-09-01', '2026-11-01', (date, time) => (time === '12:00' ? (noon[date] ?? 9) : 0.5));
  const event = { startMs: at('2026-11-01', '12:00'), durationMinutes: 30 };
  const figures = eventFigures(planEvent(event, calendar()), energy, false);
  // the four: 31st (4), 24th (1), 18th (3), 17th (2); ranked 24 < 17 < 18 < 31 → the 17th and 18th:
  // (2 + 3) / 2 = 2.5 (with the 25th it would have been the 18th and 31st: 3.5)
  assert.deepEqual(figures.daysUsed, ['2026-10-17', '2026-10-18']);
  near(figures.slots[0].baselineKwh, 2.5, 'baseline 12:00');
});

/**
 * For the same-day adjustment: every half-hour 0.5 kWh, the working days' 17:00 and 17:30 1 kWh.
 * On the event day 0.6 kWh in the window 13:00–16:00, 5 kWh just outside it (12:30 and 16:00), and
 * 0.7 and 1.5 kWh during the event.
 */
function adjustedLoad(date: string, time: string): number | undefined {
  if (date === '2026-03-19') {
    if (time >= '13:00' && time < '16:00') return 0.6;
    if (time === '12:30' || time === '16:00') return 5;
    if (time === '17:00') return 0.7;
    if (time === '17:30') return 1.5;
    return 0.5;
  }
  return (time === '17:00' || time === '17:30') && !isWeekend(date) ? 1 : 0.5;
}

test('the same-day adjustment scales the baseline by actual ÷ baseline over the 3 h ending 1 h before the event', () => {
  const energy = halfHourly('2026-01-01', '2026-03-19', adjustedLoad);
  const plan = planEvent(EVENT, calendar());
  assert.deepEqual(
    plan.extraSlots,
    ['13:00', '13:30', '14:00', '14:30', '15:00', '15:30'].map((t) => at('2026-03-19', t)),
  );
  const figures = eventFigures(plan, energy, true);
  // window: actual 6 × 0.6 = 3.6 kWh, baseline 6 × 0.5 = 3 kWh → factor 1.2
  near(figures.adjustment, 1.2, 'factor');
  assert.equal(figures.adjustmentReason, undefined);
  // baseline 1 × 1.2 = 1.2 per half-hour; delivered max(0, 1.2 − 0.7) = 0.5 and max(0, 1.2 − 1.5) = 0
  near(figures.slots[0].baselineKwh, 1.2, 'baseline 17:00');
  near(figures.slots[1].baselineKwh, 1.2, 'baseline 17:30');
  near(figures.slots[0].deliveredKwh, 0.5, 'delivered 17:00');
  assert.equal(figures.slots[1].deliveredKwh, 0);
  near(figures.totalDeliveredKwh, 0.5, 'total delivered');

  // without it: 1 − 0.7 = 0.3
  const plain = eventFigures(plan, energy, false);
  near(plain.totalDeliveredKwh, 0.3, 'total delivered unadjusted');
  assert.equal(plain.adjustment, undefined);
});

test('no same-day adjustment when a half-hour of the window has no value, or the baseline there is 0', () => {
  const plan = planEvent(EVENT, calendar());
  const gap = halfHourly('2026-01-01', '2026-03-19', (date, time) =>
    date === '2026-03-19' && time === '14:30' ? undefined : adjustedLoad(date, time),
  );
  const lacking = eventFigures(plan, gap, true);
  assert.equal(lacking.adjustment, null);
  assert.match(lacking.adjustmentReason ?? '', /1 half-hour\(s\) of the adjustment window have no energy value/);
  near(lacking.slots[0].baselineKwh, 1, 'the baseline left as it is');

  const idle = halfHourly('2026-01-01', '2026-03-19', (date, time) =>
    date !== '2026-03-19' && time >= '13:00' && time < '16:00' ? 0 : adjustedLoad(date, time),
  );
  const zero = eventFigures(plan, idle, true);
  assert.equal(zero.adjustment, null);
  assert.equal(zero.adjustmentReason, 'the baseline over the adjustment window is 0');
  near(zero.slots[0].baselineKwh, 1, 'the baseline left as it is');
});

test('delivered is max(0, baseline − actual) per half-hour, unknown without both', () => {
  const check = (baseline: number | null, actual: number | null, expected: number | null) =>
    assert.equal(deliveredKwh(baseline, actual), expected, `${baseline} − ${actual}`);
  check(2, 0.5, 1.5);
  check(1, 1, 0);
  check(1, 3, 0);
  check(null, 1, null);
  check(1, null, null);
});

test('an event has every local half-hour overlapping [start, start + duration)', () => {
  const check = (time: string, minutes: number, expected: string[], zone = LONDON) =>
    assert.deepEqual(
      eventSlots(at('2026-03-19', time, zone), minutes, zone),
      expected.map((t) => at('2026-03-19', t, zone)),
      `${time} for ${minutes} min`,
    );
  check('17:00', 30, ['17:00']);
  check('17:00', 59, ['17:00', '17:30']);
  check('17:10', 30, ['17:00', '17:30']);
  check('17:10', 20, ['17:00']);
  check('17:00', 120, ['17:00', '17:30', '18:00', '18:30']);
  // Kathmandu is 5:45 ahead of UTC: its half-hours start at :15 and :45 UTC
  check('17:10', 30, ['17:00', '17:30'], 'Asia/Kathmandu');
  assert.equal(localHalfHourStart(Date.UTC(2026, 2, 19, 11, 25), 'Asia/Kathmandu'), Date.UTC(2026, 2, 19, 11, 15));
  // the adjustment window of a 17:00 event: 13:00 to 15:30, six half-hours
  assert.equal(adjustmentWindow(at('2026-03-19', '17:00')).length, 6);
});

test('an event across midnight is baselined from the night after each baseline day', () => {
  // 23:30 on Thursday 19 March for an hour: 23:30 and the 00:00 of Friday 20th. Every half-hour
  // 0.5 kWh, except 00:00 on the days after the working days used, which use their day of the month ÷ 10
  const energy = halfHourly('2026-01-01', '2026-03-20', (date, time) =>
    time === '00:00' && date >= '2026-03-06' ? dayOfMonth(date) / 10 : 0.5,
  );
  const event = { startMs: at('2026-03-19', '23:30'), durationMinutes: 60 };
  const figures = eventFigures(planEvent(event, calendar()), energy, false);
  assert.equal(figures.daysUsed.length, 10);
  // the days after 5, 6, 9, 10, 11, 12, 13, 16, 17, 18 March: 6, 7, 10, 11, 12, 13, 14, 17, 18, 19
  // → 00:00: 127 / 100
  near(figures.slots[1].baselineKwh, 1.27, 'baseline 00:00');
  near(figures.slots[0].baselineKwh, 0.5, 'baseline 23:30');
});

test('a day baseline has every half-hour of the day: 50 on the clock-change Sunday, the repeated hour twice', () => {
  const energy = halfHourly('2026-08-01', '2026-10-25', (_date, time) =>
    time === '01:00' ? 2 : time === '01:30' ? 3 : 0.5,
  );
  const plan = planDay('2026-10-25', calendar());
  assert.equal(plan.slots.length, 50);
  const result = bl01(plan, energy);
  assert.equal(result.baseline, 'complete');
  // 01:00 BST, 01:30 BST, then 01:00 GMT and 01:30 GMT: both pairs from the same wall-clock half-hours
  assert.deepEqual(result.kwh.slice(2, 6), [2, 3, 2, 3]);
  assert.deepEqual(plan.range, {
    startMs: at('2026-08-29', '00:00'), // the earliest weekend day of the 60 days before: Saturday 29 August
    endMs: at('2026-10-26', '00:00'),
  });
});
