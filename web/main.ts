import 'uplot/dist/uPlot.min.css';
import './style.css';
import { ApiError, saveKey, savedKey } from './api.js';
import { readConfig } from './config.js';
import { h, problem } from './dom.js';
import { chosenView, viewsOn } from './modules.js';
import { DEFAULT_PERIOD, type Period, PRESETS, resolvePeriod, shiftPeriod } from './period.js';
import { views } from './views/index.js';

const config = readConfig();

/** A link to this page with some URL parameters changed (undefined removes one). */
function href(changes: Record<string, string | undefined>): string {
  const params = new URLSearchParams(location.search);
  for (const [name, value] of Object.entries(changes))
    if (value === undefined) params.delete(name);
    else params.set(name, value);
  const query = params.toString();
  return query ? `?${query.replaceAll('%3A', ':').replaceAll('%2F', '/')}` : location.pathname;
}

/** Draws the page for the current URL: the state (view, period, meter) lives only there. */
let drawing = 0;
let shown = new AbortController();
/** The views whose module is on (a view without a module is always shown). */
const available = viewsOn(views, config.modules);
async function draw() {
  const turn = ++drawing;
  // the view drawn before closes what it opened
  shown.abort();
  shown = new AbortController();
  const { signal } = shown;
  const params = new URLSearchParams(location.search);
  const view = chosenView(available, params.get('view'));
  const main = document.getElementById('app')!;
  main.replaceChildren();

  let period: Period;
  try {
    period = resolvePeriod(params.get('period') ?? DEFAULT_PERIOD, config.timezone);
  } catch (err) {
    main.append(problem((err as Error).message));
    period = resolvePeriod(DEFAULT_PERIOD, config.timezone);
  }
  const compare = params.get('compare') === '1';
  const previous = compare ? resolvePeriod(shiftPeriod(period, -1), config.timezone) : undefined;
  navigation(view.id);
  periodBar(period, compare);
  document.title = `${view.title} · ${period.label} · Wattline`;

  const root = h('div', { class: 'view', 'data-view': view.id, 'aria-busy': 'true' });
  main.append(root);
  try {
    await view.render({ root, period, previous, params, config, href, signal });
  } catch (err) {
    if (turn !== drawing) return;
    if (err instanceof ApiError && (err.status === 401 || err.status === 403)) root.replaceChildren(keyForm(err));
    else root.append(problem((err as Error).message));
  }
  if (turn === drawing) root.setAttribute('aria-busy', 'false');
}

function navigation(current: string) {
  const nav = document.getElementById('views')!;
  nav.replaceChildren(
    ...available.map((v) =>
      h(
        'a',
        { href: href({ view: v.id }), 'data-nav': '', 'aria-current': v.id === current ? 'page' : undefined },
        v.title,
      ),
    ),
  );
}

/** The shared period selection: presets, previous/next, a custom range, the label in the configured zone. */
function periodBar(period: Period, compare: boolean) {
  const bar = document.getElementById('period')!;
  const link = (spec: string, text: string, extra: Record<string, string> = {}) =>
    h(
      'a',
      {
        href: href({ period: spec }),
        'data-nav': '',
        'aria-current': spec === period.spec ? 'true' : undefined,
        ...extra,
      },
      text,
    );
  const from = h('input', { type: 'date', name: 'from', 'aria-label': 'From', value: period.start.toISODate() ?? '' });
  const to = h('input', {
    type: 'date',
    name: 'to',
    'aria-label': 'To (inclusive)',
    value: period.end.minus(1).toISODate() ?? '',
  });
  const custom = h('form', { class: 'custom' }, from, '–', to, h('button', { type: 'submit' }, 'Show'));
  custom.addEventListener('submit', (event) => {
    event.preventDefault();
    if (!from.value || !to.value) return;
    // the end day is included: the range ends at the next midnight
    const end = new Date(`${to.value}T00:00:00Z`);
    end.setUTCDate(end.getUTCDate() + 1);
    go(href({ period: `range:${from.value}T00:00/${end.toISOString().slice(0, 10)}T00:00` }));
  });
  bar.replaceChildren(
    h('div', { class: 'presets' }, ...PRESETS.map((p) => link(p.spec, p.label))),
    h(
      'div',
      { class: 'current' },
      link(shiftPeriod(period, -1), '‹', { 'aria-label': 'Previous period', rel: 'prev' }),
      h('strong', { 'data-testid': 'period-label' }, period.label),
      link(shiftPeriod(period, 1), '›', { 'aria-label': 'Next period', rel: 'next' }),
      h('small', {}, config.timezone),
      h(
        'a',
        {
          href: href({ compare: compare ? undefined : '1' }),
          'data-nav': '',
          role: 'switch',
          'aria-checked': String(compare),
          'data-testid': 'compare',
          class: 'switch',
        },
        'Compare with the previous period',
      ),
      custom,
    ),
  );
}

/** Reads need a key here: ask once, keep it in this browser. */
function keyForm(err: ApiError): HTMLElement {
  const input = h('input', { type: 'password', name: 'key', autocomplete: 'off', 'aria-label': 'API key' });
  const form = h(
    'form',
    { class: 'panel key' },
    h('h2', {}, 'API key needed'),
    h(
      'p',
      {},
      savedKey() ? `The saved key was refused (${err.message}).` : 'This server needs a read key to show data.',
    ),
    input,
    h('button', { type: 'submit' }, 'Use this key'),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    saveKey(input.value.trim());
    draw();
  });
  return form;
}

function go(url: string) {
  history.pushState(null, '', url);
  draw();
}

// links inside the page change the URL without reloading: the state is the URL, drawn again
document.addEventListener('click', (event) => {
  const link = (event.target as Element).closest?.('a[data-nav]') as HTMLAnchorElement | null;
  if (!link || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
  event.preventDefault();
  go(link.href);
});
addEventListener('popstate', () => draw());
draw();
