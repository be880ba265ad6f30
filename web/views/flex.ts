import { DateTime } from 'luxon';
import { ApiError, get, type Json, saveKey, savedKey, send } from '../api.js';
import { barChart } from '../chart.js';
import { formatKwh, h, problem } from '../dom.js';
import { liveMessages } from '../live.js';
import type { View, ViewContext } from '../view.js';
import { age } from './health.js';

const DR = '/api/v1/demand-response';
const EVENTS = '/api/v1/flex/events';
/** Completed events offered for a report, newest first. */
const COMPLETED_SHOWN = 10;
const INSTRUCTIONS = ['participation', 'shifting', 'off'] as const;
/** The API's most for `shifting_percentage` (src/modules/flex/invitation.ts). */
const MAX_SHIFTING = 20;
/** What a device switched to shifting sheds until its percentage is set. */
const DEFAULT_SHIFTING = 10;

/** An event as `GET /api/v1/flex/events` answers it (the fields this view reads). */
interface FlexEvent {
  event_id: string;
  event_time: string;
  end_time: string;
  load_kwh: number;
  load_percentage: number;
  duration_minutes: number;
  response: 'WAITING' | 'YES' | 'NO';
  status: 'scheduled' | 'active' | 'completed' | 'cancelled';
  devices: Device[];
}

/** A device's demand-response setting as the API answers it. */
interface Device {
  iot: string;
  demandresponse: boolean;
  instruction: (typeof INSTRUCTIONS)[number];
  shifting_percentage: number | null;
  share: number;
}

/** Everything the view draws, each part its answer or the error reading it. */
interface Data {
  scheduled: FlexEvent[] | Error;
  active: FlexEvent[] | Error;
  completed: FlexEvent[] | Error;
  auto: boolean | Error;
  instructions: Device[] | Error;
  flexibility: Json | Error;
  sensors: string[] | Error;
}

/** A panel: its title, a place for what an action said (kept across redraws), and its content. */
interface Panel {
  section: HTMLElement;
  notice: HTMLElement;
  body: HTMLElement;
}

const kw = new Intl.NumberFormat('en-GB', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const money = new Intl.NumberFormat('en-GB', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const percent = new Intl.NumberFormat('en-GB', { style: 'percent', maximumFractionDigits: 1 });

/** A power in kW as the view shows it (2 decimals), or a dash when there is nothing to show. */
export function formatKw(value: number | null | undefined): string {
  return value === null || value === undefined ? '—' : `${kw.format(value)} kW`;
}

/**
 * Demand response: invitations waiting for an answer (Yes/No), upcoming and active events with a
 * countdown, the auto-answer switch, each device's instruction, the load that could be shed now, and
 * for a completed event its baseline against the actual energy per half-hour with the kWh delivered.
 * Follows `dr_event` and `dr_device` messages on the live WebSocket.
 */
export const flex: View = {
  id: 'flex',
  title: 'Demand response',
  module: 'flex',
  async render(ctx) {
    const page = new FlexPage(ctx);
    await page.load();
    page.follow();
  },
};

class FlexPage {
  private readonly panels: Record<'empty' | 'waiting' | 'upcoming' | 'auto' | 'devices' | 'now' | 'report', Panel>;
  /** The server's clock minus this browser's (the module's clock may differ: tests inject one). */
  private offsetMs = 0;
  /** Devices chosen from the sensors to be set up, shown until they are set. */
  private readonly added = new Set<string>();
  private loading: Promise<void> | undefined;
  private again = false;

  constructor(private readonly ctx: ViewContext) {
    const panel = (label: string, testId: string): Panel => {
      const section = h('section', { class: 'panel flex', 'aria-label': label, 'data-testid': testId });
      const notice = h('div', { class: 'notice', 'aria-live': 'polite' });
      const body = h('div');
      section.append(h('h2', {}, label), notice, body);
      return { section, notice, body };
    };
    this.panels = {
      empty: panel('No demand-response events yet', 'empty-state'),
      waiting: panel('Invitations waiting for an answer', 'waiting'),
      upcoming: panel('Upcoming and active events', 'upcoming'),
      auto: panel('Auto-answer', 'auto'),
      devices: panel('Device instructions', 'devices'),
      now: panel('Flexibility now', 'flexibility'),
      report: panel('Completed events: delivered against the baseline', 'report'),
    };
    this.panels.empty.section.classList.add('empty');
  }

  /** Reads everything and draws it; asked again while reading, it reads once more after. */
  load(): Promise<void> {
    if (this.loading) {
      this.again = true;
      return this.loading;
    }
    this.loading = (async () => {
      do {
        this.again = false;
        const data = await this.read();
        if (this.ctx.signal.aborted) return;
        await this.draw(data);
      } while (this.again && !this.ctx.signal.aborted);
    })().finally(() => (this.loading = undefined));
    return this.loading;
  }

  /** Live: a `dr_event` or `dr_device` message draws the page again; countdowns tick every second. */
  follow() {
    const { ctx } = this;
    liveMessages(
      ctx.signal,
      ['dr_event', 'dr_device'],
      (message) => {
        const at = Date.parse(message.at);
        if (Number.isFinite(at)) this.offsetMs = at - Date.now();
        void this.load();
      },
      () => {
        ctx.root.setAttribute('data-live', 'open');
        this.panels.upcoming.section
          .querySelector('h2')
          ?.append(h('small', { class: 'note', 'data-testid': 'live' }, 'live'));
      },
    );
    const timer = setInterval(() => this.tick(), 1000);
    ctx.signal.addEventListener('abort', () => clearInterval(timer), { once: true });
  }

  private now(): number {
    return Date.now() + this.offsetMs;
  }

  private async read(): Promise<Data> {
    const caught = <T>(p: Promise<T>) => p.catch((err: Error) => err);
    const events = (status: string) => caught(get(EVENTS, { status }).then((b) => b.events as FlexEvent[]));
    const buildings = this.ctx.config.modules.includes('buildings');
    const [scheduled, active, completed, auto, instructions, flexibility, sensors] = await Promise.all([
      events('scheduled'),
      events('active'),
      events('completed'),
      caught(get(`${DR}/invitation/auto`).then((b) => b.auto_answer as boolean)),
      caught(get(`${DR}/iot/instructions`).then((b) => b.instructions as Device[])),
      caught(get(`${DR}/energy/flexibility`)),
      buildings
        ? caught(get('/api/v1/sensors/get', { limit: '10000' }).then((b) => b.sensors.map((s: Json) => s.sensor_id)))
        : Promise.resolve([] as string[]),
    ]);
    if (!(flexibility instanceof Error)) this.offsetMs = Date.parse(flexibility.at) - Date.now();
    return { scheduled, active, completed, auto, instructions, flexibility, sensors };
  }

  private async draw(data: Data) {
    const { ctx, panels } = this;
    // the focused control is focused again once drawn anew (a live change must not lose a keyboard user's place)
    const focusKey = (document.activeElement as HTMLElement | null)?.dataset?.key;
    const none = [data.scheduled, data.active, data.completed].every((e) => Array.isArray(e) && e.length === 0);
    const sections = none
      ? [panels.empty, panels.auto, panels.devices, panels.now]
      : [panels.waiting, panels.upcoming, panels.auto, panels.devices, panels.now, panels.report];
    if (none) panels.empty.body.replaceChildren(...this.emptyState());
    else {
      this.drawEvents(data);
    }
    this.drawAuto(data.auto);
    this.drawDevices(data);
    this.drawFlexibility(data.flexibility);
    if (!none) await this.drawReport(data.completed);
    if (ctx.signal.aborted) return;
    const shown = sections.map((p) => p.section);
    if (ctx.root.children.length !== shown.length || shown.some((s, i) => ctx.root.children[i] !== s))
      ctx.root.replaceChildren(...shown);
    this.tick();
    if (focusKey) ctx.root.querySelector<HTMLElement>(`[data-key="${CSS.escape(focusKey)}"]`)?.focus();
  }

  /** Sets every countdown from the server's clock. */
  private tick() {
    for (const el of this.ctx.root.querySelectorAll<HTMLElement>('[data-countdown]')) this.setCountdown(el);
  }

  /** `starts in 2 h 30 min` (a scheduled event), `ends in 20 min` (an active one). */
  private setCountdown(el: HTMLElement) {
    const ms = Number(el.dataset.to) - this.now();
    const end = el.dataset.countdown === 'end';
    el.textContent = ms > 0 ? `${end ? 'ends' : 'starts'} in ${age(ms)}` : end ? 'ending' : 'starting';
  }

  private time(iso: string, format = 'd LLL yyyy HH:mm'): string {
    return DateTime.fromISO(iso).setZone(this.ctx.config.timezone).toFormat(format);
  }

  /** `3 Jun 2024 12:00–12:30`, in the configured zone. */
  private span(e: FlexEvent): string {
    const start = DateTime.fromISO(e.event_time).setZone(this.ctx.config.timezone);
    const end = DateTime.fromISO(e.end_time).setZone(this.ctx.config.timezone);
    return `${start.toFormat('d LLL yyyy HH:mm')}–${end.toFormat(start.hasSame(end, 'day') ? 'HH:mm' : 'd LLL HH:mm')}`;
  }

  private countdown(e: FlexEvent): HTMLElement {
    const active = e.status === 'active';
    const el = h('span', {
      class: 'countdown',
      'data-countdown': active ? 'end' : 'start',
      'data-to': String(Date.parse(active ? e.end_time : e.event_time)),
      'data-testid': 'countdown',
    });
    this.setCountdown(el);
    return el;
  }

  private asked(e: FlexEvent): string {
    return `${formatKwh(e.load_kwh)} (${e.load_percentage} %) for ${e.duration_minutes} min`;
  }

  private devicesOf(e: FlexEvent): HTMLElement {
    const list = h('ul', { class: 'plain' });
    for (const d of e.devices)
      list.append(
        h(
          'li',
          {},
          h('code', {}, d.iot),
          ' ',
          h('small', { class: 'muted' }, d.share > 0 ? shareText(d) : 'sheds nothing'),
        ),
      );
    return list;
  }

  private drawEvents(data: Data) {
    const { waiting, upcoming } = this.panels;
    if (data.scheduled instanceof Error || data.active instanceof Error) {
      const err = (data.scheduled instanceof Error ? data.scheduled : data.active) as Error;
      waiting.body.replaceChildren(problem(err.message));
      upcoming.body.replaceChildren(problem(err.message));
      return;
    }
    const asking = data.scheduled.filter((e) => e.response === 'WAITING');
    const answered = [...data.active, ...data.scheduled.filter((e) => e.response !== 'WAITING')];
    waiting.body.replaceChildren(
      asking.length === 0
        ? h('p', { class: 'note', 'data-testid': 'none-waiting' }, 'None: every invitation is answered.')
        : table(
            ['Event', 'Starts', 'Asked for', 'Devices', 'Answer'],
            asking.map((e) =>
              h(
                'tr',
                { 'data-event': e.event_id, 'data-testid': 'invitation' },
                cell('Event', this.span(e)),
                cell('Starts', this.countdown(e)),
                cell('Asked for', this.asked(e)),
                cell('Devices', this.devicesOf(e)),
                cell('Answer', this.answerButtons(e)),
              ),
            ),
            'invitations',
          ),
    );
    upcoming.body.replaceChildren(
      answered.length === 0
        ? h('p', { class: 'note' }, 'No answered event is upcoming or active.')
        : table(
            ['Event', 'Status', 'Countdown', 'Asked for', 'Devices', 'Answer'],
            answered.map((e) =>
              h(
                'tr',
                { 'data-event': e.event_id, 'data-testid': 'event', 'data-status': e.status },
                cell('Event', this.span(e)),
                cell('Status', h('span', { class: `badge ${e.status === 'active' ? 'online' : ''}` }, e.status)),
                cell('Countdown', this.countdown(e)),
                cell('Asked for', this.asked(e)),
                cell('Devices', this.devicesOf(e)),
                cell(
                  'Answer',
                  h('strong', { 'data-testid': 'response' }, e.response === 'YES' ? 'Yes' : 'No'),
                  e.status === 'scheduled' ? ' ' : null,
                  e.status === 'scheduled'
                    ? this.button(
                        e.response === 'YES' ? 'Change to No' : 'Change to Yes',
                        `answer:${e.event_id}`,
                        this.panels.upcoming,
                        () =>
                          send('POST', `${DR}/invitation/answer`, {
                            event_id: e.event_id,
                            response: e.response === 'YES' ? 'NO' : 'YES',
                          }),
                      )
                    : null,
                ),
              ),
            ),
            'events',
          ),
    );
  }

  private answerButtons(e: FlexEvent): HTMLElement {
    const answer = (response: 'YES' | 'NO') => () =>
      send('POST', `${DR}/invitation/answer`, { event_id: e.event_id, response });
    const when = this.span(e);
    return h(
      'div',
      { class: 'actions' },
      this.button('Yes', `yes:${e.event_id}`, this.panels.waiting, answer('YES'), `Yes, take part on ${when}`),
      this.button('No', `no:${e.event_id}`, this.panels.waiting, answer('NO'), `No, not on ${when}`),
    );
  }

  /** A button making a change on the server; what went wrong is shown in its panel. */
  private button(text: string, key: string, panel: Panel, write: () => Promise<unknown>, label?: string) {
    const button = h('button', { type: 'button', 'data-key': key, 'aria-label': label }, text);
    button.addEventListener('click', () => void this.act(panel, write, button));
    return button;
  }

  /**
   * Makes a change, then draws the page again. Its error is shown in the panel in the API's words;
   * refused for want of a key (401) or of a write key (403), the panel also asks for one and tries again with it.
   */
  private async act(
    panel: Panel,
    write: () => Promise<unknown>,
    control?: HTMLButtonElement | HTMLSelectElement | HTMLInputElement,
  ) {
    panel.notice.replaceChildren();
    // a disabled control loses focus: its replacement gets it back once drawn
    const key = control && document.activeElement === control ? control.dataset.key : undefined;
    if (control) control.disabled = true;
    let keyForm: HTMLElement | undefined;
    try {
      await write();
    } catch (err) {
      if (control) control.disabled = false;
      panel.notice.replaceChildren(problem((err as Error).message));
      if (err instanceof ApiError && (err.status === 401 || err.status === 403))
        panel.notice.append((keyForm = this.keyForm(err, () => this.act(panel, write))));
    }
    await this.load();
    // asked for a key: the keyboard goes to its field
    if (keyForm) keyForm.querySelector('input')?.focus();
    else if (key && (document.activeElement === document.body || document.activeElement === null))
      this.ctx.root.querySelector<HTMLElement>(`[data-key="${CSS.escape(key)}"]`)?.focus();
  }

  private keyForm(err: ApiError, retry: () => void): HTMLElement {
    const input = h('input', { type: 'password', name: 'key', autocomplete: 'off', 'aria-label': 'Write key' });
    const form = h(
      'form',
      { class: 'key-inline', 'data-testid': 'key-form' },
      h(
        'p',
        { class: 'note' },
        err.status === 403 || savedKey()
          ? 'Changes need a key with write scope: enter one to use in this browser.'
          : 'Changes need a write key: enter one to use in this browser.',
      ),
      input,
      h('button', { type: 'submit' }, 'Use this key and try again'),
    );
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      saveKey(input.value.trim());
      retry();
    });
    return form;
  }

  private drawAuto(auto: boolean | Error) {
    const { body } = this.panels.auto;
    if (auto instanceof Error) {
      body.replaceChildren(problem(auto.message));
      return;
    }
    const toggle = this.button('Answer invitations Yes automatically', 'auto', this.panels.auto, () =>
      send('POST', `${DR}/invitation/auto`, { auto_answer: !auto }),
    );
    toggle.setAttribute('role', 'switch');
    toggle.setAttribute('aria-checked', String(auto));
    toggle.classList.add('switch');
    toggle.dataset.testid = 'auto-answer';
    body.replaceChildren(
      toggle,
      h(
        'p',
        { class: 'note' },
        auto
          ? 'On: new invitations are answered Yes at once, and those waiting shortly after.'
          : 'Off: each invitation waits for your answer; one still waiting when its event starts is answered as the server is set (flex.unansweredAtStart, No by default).',
      ),
    );
  }

  /** Devices set, those the listed events name, and those chosen to be set up. */
  private drawDevices(data: Data) {
    const { body } = this.panels.devices;
    if (data.instructions instanceof Error) {
      body.replaceChildren(problem(data.instructions.message));
      return;
    }
    const devices = new Map(data.instructions.map((d) => [d.iot, d]));
    const named = [data.scheduled, data.active].flatMap((list) => (list instanceof Error ? [] : list));
    for (const e of named) for (const d of e.devices) if (!devices.has(d.iot)) devices.set(d.iot, d);
    for (const id of this.added)
      if (!devices.has(id))
        devices.set(id, {
          iot: id,
          demandresponse: false,
          instruction: 'participation',
          shifting_percentage: null,
          share: 0,
        });
    const rows = [...devices.values()].sort((a, b) => a.iot.localeCompare(b.iot)).map((d) => this.deviceRow(d));
    const others = data.sensors instanceof Error ? [] : data.sensors.filter((id) => !devices.has(id)).sort();
    const parts: Node[] = [
      rows.length
        ? table(['Device', 'Demand response', 'Instruction', 'Shifting %', 'Sheds'], rows, 'instructions')
        : h(
            'p',
            { class: 'note' },
            others.length
              ? 'No device is set up for demand response yet: choose one of the sensors below.'
              : 'No device is set up for demand response yet. Devices are sensors: register one (POST /api/v1/sensors) to set it up here.',
          ),
    ];
    if (data.sensors instanceof Error) parts.push(problem(data.sensors.message));
    else if (others.length) parts.push(this.addDevice(others, rows.length > 0));
    parts.push(
      h(
        'p',
        { class: 'note' },
        'A device sheds its whole load on participation, its shifting percentage on shifting (0–20 %), nothing when off or with demand response off.',
      ),
    );
    body.replaceChildren(...parts);
  }

  private deviceRow(d: Device): HTMLElement {
    const panel = this.panels.devices;
    const enable = this.button(
      d.demandresponse ? 'On' : 'Off',
      `enable:${d.iot}`,
      panel,
      () => send('POST', `${DR}/iot/demandresponse/enable`, { iot: d.iot, enable: !d.demandresponse }),
      `Demand response for ${d.iot}`,
    );
    enable.setAttribute('role', 'switch');
    enable.setAttribute('aria-checked', String(d.demandresponse));
    enable.classList.add('switch');
    enable.dataset.testid = 'enable';

    const instruction = h('select', {
      'aria-label': `Instruction for ${d.iot}`,
      'data-key': `instruction:${d.iot}`,
      'data-testid': 'instruction',
    });
    for (const name of INSTRUCTIONS)
      instruction.append(h('option', { value: name, selected: name === d.instruction ? '' : undefined }, name));
    const shifting = h('input', {
      type: 'number',
      min: '0',
      max: String(MAX_SHIFTING),
      step: '1',
      inputmode: 'numeric',
      value: String(d.shifting_percentage ?? DEFAULT_SHIFTING),
      'aria-label': `Shifting percentage for ${d.iot}`,
      'data-key': `shifting:${d.iot}`,
      'data-testid': 'shifting',
      disabled: d.instruction === 'shifting' ? undefined : '',
    });
    const save = (control: HTMLSelectElement | HTMLInputElement) =>
      this.act(
        panel,
        () =>
          send('POST', `${DR}/iot/instructions`, {
            iot: d.iot,
            instruction: instruction.value,
            ...(instruction.value === 'shifting' ? { shifting_percentage: Number(shifting.value) } : {}),
          }),
        control,
      );
    instruction.addEventListener('change', () => void save(instruction));
    shifting.addEventListener('change', () => void save(shifting));
    return h(
      'tr',
      { 'data-device': d.iot, 'data-testid': 'device' },
      cell('Device', h('code', {}, d.iot)),
      cell('Demand response', enable),
      cell('Instruction', instruction),
      cell('Shifting %', shifting),
      cell('Sheds', h('span', { 'data-testid': 'share' }, d.share > 0 ? percent.format(d.share) : 'nothing')),
    );
  }

  private addDevice(others: string[], another: boolean): HTMLElement {
    const select = h(
      'select',
      { 'aria-label': 'Sensor to set up for demand response', 'data-key': 'add-device', 'data-testid': 'add-device' },
      h('option', { value: '' }, another ? 'Set up another device…' : 'Set up a device…'),
      ...others.map((id) => h('option', { value: id }, id)),
    );
    select.addEventListener('change', () => {
      if (!select.value) return;
      this.added.add(select.value);
      void this.load();
    });
    return h('p', { class: 'add-device' }, select);
  }

  private drawFlexibility(flexibility: Json | Error) {
    const { body } = this.panels.now;
    if (flexibility instanceof Error) {
      body.replaceChildren(problem(flexibility.message));
      return;
    }
    const devices: Json[] = flexibility.devices;
    const total = h(
      'dl',
      { class: 'figures' },
      h(
        'div',
        {},
        h('dt', {}, 'Could be shed now'),
        h('dd', { 'data-testid': 'flex-total' }, formatKw(flexibility.total_kw)),
      ),
      h('div', {}, h('dt', {}, 'As of'), h('dd', {}, this.time(flexibility.at, 'd LLL yyyy HH:mm:ss'))),
    );
    if (devices.length === 0) {
      body.replaceChildren(total, h('p', { class: 'note' }, 'No device is set up for demand response yet.'));
      return;
    }
    const rows = devices.map((d) =>
      h(
        'tr',
        { 'data-device': d.iot, 'data-testid': 'flex-device' },
        cell('Device', h('code', {}, d.iot)),
        cell('Sheds', d.share > 0 ? percent.format(d.share) : 'nothing'),
        cell(
          `Power, last ${flexibility.window_minutes} min`,
          h(
            'span',
            { 'data-testid': 'recent-power' },
            d.recent_power_kw === null ? 'no readings' : formatKw(d.recent_power_kw),
          ),
        ),
        cell('Could shed', h('span', { 'data-testid': 'flex-kw' }, formatKw(d.flexibility_kw))),
      ),
    );
    body.replaceChildren(
      total,
      table(['Device', 'Sheds', `Power, last ${flexibility.window_minutes} min`, 'Could shed'], rows, 'flexibility'),
      h('p', { class: 'note' }, 'A device without readings in the window is left out of the total.'),
    );
  }

  /** The completed events, newest first, and the report of the one chosen (`?event=`, else the newest). */
  private async drawReport(completed: FlexEvent[] | Error) {
    const { body } = this.panels.report;
    if (completed instanceof Error) {
      body.replaceChildren(problem(completed.message));
      return;
    }
    if (completed.length === 0) {
      body.replaceChildren(
        h('p', { class: 'note' }, 'No event has completed yet: its report appears here once it has.'),
      );
      return;
    }
    const newest = [...completed].reverse().slice(0, COMPLETED_SHOWN);
    const chosen = newest.find((e) => e.event_id === this.ctx.params.get('event')) ?? newest[0];
    const list = h('ul', { class: 'plain event-list' });
    for (const e of newest)
      list.append(
        h(
          'li',
          {},
          h(
            'a',
            {
              href: this.ctx.href({ event: e.event_id }),
              'data-nav': '',
              'aria-current': e === chosen ? 'true' : undefined,
              class: e === chosen ? 'chosen' : undefined,
            },
            this.span(e),
          ),
          ` answered ${e.response === 'YES' ? 'Yes' : 'No'}`,
        ),
      );
    let report: Json;
    try {
      report = await get(`${EVENTS}/${encodeURIComponent(chosen.event_id)}/report`);
    } catch (err) {
      body.replaceChildren(list, problem((err as Error).message));
      return;
    }
    body.replaceChildren(list, this.reportOf(chosen, report));
  }

  private reportOf(e: FlexEvent, r: Json): HTMLElement {
    const box = h('article', { class: 'report', 'data-testid': 'event-report', 'data-event': e.event_id });
    box.append(h('h3', {}, `${this.span(e)}: ${formatKwh(r.requested_kwh)} asked for`));
    if (r.baseline === 'none') {
      box.append(
        h('p', { class: 'error', 'data-testid': 'no-baseline' }, `No baseline: ${r.reason ?? 'not enough days'}`),
        h('p', { class: 'note' }, 'Without a baseline the kWh delivered cannot be measured.'),
      );
      return box;
    }
    const figure = (label: string, value: string, testId: string) =>
      h('div', {}, h('dt', {}, label), h('dd', { 'data-testid': testId }, value));
    box.append(
      h(
        'dl',
        { class: 'figures' },
        figure('Delivered', formatKwh(r.total_delivered_kwh), 'delivered'),
        figure(
          'Share of requested',
          r.delivered_share === null ? '—' : percent.format(r.delivered_share),
          'delivered-share',
        ),
        figure('Benefit', money.format(r.benefit), 'benefit'),
        figure('Baseline', `${r.baseline_method}, ${r.days_used.length} days`, 'baseline'),
      ),
    );
    if (r.incomplete)
      box.append(h('p', { class: 'note', 'data-testid': 'incomplete' }, `Baseline incomplete: ${r.reason ?? ''}`));
    box.append(
      h(
        'p',
        { class: 'note' },
        `Benefit at ${money.format(r.reward_per_kwh)} per kWh delivered (flex.rewardPerKwh); delivered = baseline − actual per half-hour, never below 0.`,
      ),
    );
    const slots: Json[] = r.slots;
    const times = slots.map((s) => Date.parse(s.time) / 1000);
    const chart = h('div', { class: 'chart', 'data-testid': 'report-chart' });
    const legend = h(
      'ul',
      { class: 'legend' },
      h('li', {}, h('span', { class: 'swatch', style: '--swatch: var(--accent)' }), 'Actual'),
      h('li', {}, h('span', { class: 'swatch outline', style: '--swatch: #d9480f' }), 'Baseline'),
    );
    box.append(chart, legend);
    // drawn once the chart's element is in the page (uPlot reads its width)
    requestAnimationFrame(() =>
      barChart(chart, {
        times,
        series: [
          { label: 'Actual', values: slots.map((s) => s.actual_kwh), colour: '--accent' },
          { label: 'Baseline', values: slots.map((s) => s.baseline_kwh), colour: '#d9480f', outline: true },
        ],
        from: times[0],
        to: (times.at(-1) ?? times[0]) + 1800,
        zone: this.ctx.config.timezone,
        label: 'kWh per half-hour',
        // an event has 1–4 half-hours: each bar fills its half-hour
        maxBarPx: Number.POSITIVE_INFINITY,
      }),
    );
    box.append(
      table(
        ['Half-hour', 'Baseline', 'Actual', 'Delivered'],
        slots.map((s) =>
          h(
            'tr',
            { 'data-testid': 'slot' },
            cell('Half-hour', this.time(s.time, 'HH:mm')),
            cell('Baseline', formatKwh(s.baseline_kwh)),
            cell('Actual', formatKwh(s.actual_kwh)),
            cell('Delivered', formatKwh(s.delivered_kwh)),
          ),
        ),
        'slots',
      ),
    );
    return box;
  }

  /** No event yet: how to send an invitation (and set a device up first). */
  private emptyState(): Node[] {
    const origin = location.origin;
    const json = `-H 'Content-Type: application/json'`;
    const inOneHour = DateTime.fromMillis(this.now(), { zone: this.ctx.config.timezone })
      .plus({ hours: 1 })
      .startOf('hour')
      .toFormat("yyyy-MM-dd'T'HH:mm:ss");
    return [
      h(
        'p',
        {},
        'Events appear here when the grid or an aggregator sends an invitation. Set a device up for demand response below, then send one with a write key, for example:',
      ),
      h(
        'pre',
        {},
        `curl -u <your key>: ${json} -d '{"event_time":"${inOneHour}","load_kwh":2,"load_percentage":10,"iots":["<sensor id>"],"duration_minutes":30}' ${origin}${DR}/invitation/send`,
      ),
      h('p', { class: 'note' }, `event_time without an offset is a time in ${this.ctx.config.timezone}.`),
    ];
  }
}

function shareText(d: Device): string {
  return `sheds ${percent.format(d.share)}`;
}

function cell(label: string, ...content: (Node | string | null)[]): HTMLElement {
  return h('td', { 'data-label': label }, ...content);
}

/** A table whose cells say their column (`data-label`) so that a phone shows each row as a block. */
function table(columns: string[], rows: HTMLElement[], testId: string): HTMLElement {
  const head = h('tr');
  for (const c of columns) head.append(h('th', { scope: 'col' }, c));
  return h('table', { class: 'health', 'data-testid': testId }, h('thead', {}, head), h('tbody', {}, ...rows));
}
