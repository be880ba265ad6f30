import type { FastifyInstance } from 'fastify';

/** Where `GET /` points: the docs, the API description, and the operations endpoints. */
const LINKS = { docs: '/docs', openapi: '/openapi.json', metrics: '/metrics', health: '/health' } as const;

const LABELS: Record<string, string> = {
  docs: 'API documentation',
  openapi: 'OpenAPI document',
  metrics: 'Prometheus metrics',
  health: 'Health',
};

/** What the dashboard page is told at load: the zone its times are shown in, the sample for the empty state. */
export interface DashboardPage {
  timezone: string;
  sampleFile: string;
  /** The modules switched on (asked at each page load: modules start after the server is created). */
  modules: () => string[];
}

/**
 * `GET /`: what this server is and where to go next, as JSON for API clients; browsers (Accept:
 * text/html) get the dashboard when this process serves it (`dashboard`: the api role), else a page of links.
 * Public: the dashboard asks for a key itself when reads need one.
 */
export function registerRootPage(http: FastifyInstance, options: { version: string; dashboard?: DashboardPage }) {
  const links: Record<string, string> = { ...LINKS };
  const about = {
    name: 'Wattline',
    version: options.version,
    description: 'Energy telemetry: readings in, stored, queried.',
    links,
  };
  const dashboard = options.dashboard;
  const linksPage = page(about);
  const html = () => (dashboard ? dashboardPage(about, dashboard) : linksPage);
  http.get(
    '/',
    {
      config: { access: 'public' },
      schema: {
        summary: 'This server: name, version and links (HTML for browsers, JSON otherwise)',
        tags: ['operations'],
        // registered before the access hook (auth/access.ts) exists, so documented here as it would be
        'x-access': 'public',
        security: [],
      } as object,
    },
    async (request, reply) => {
      if (wantsHtml(request.headers.accept)) return reply.type('text/html; charset=utf-8').send(html());
      return about;
    },
  );
}

/** Browsers list text/html in Accept; API clients send JSON, `*\/*` or nothing. */
function wantsHtml(accept: string | undefined): boolean {
  return accept !== undefined && /(^|,)\s*text\/html\s*(;|,|$)/i.test(accept);
}

function page(about: { name: string; version: string; description: string; links: Record<string, string> }) {
  const items = Object.entries(about.links)
    .map(
      ([name, href]) =>
        `<li><a href="${escapeHtml(href)}">${escapeHtml(LABELS[name] ?? name)}</a> <code>${escapeHtml(href)}</code></li>`,
    )
    .join('\n      ');
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <title>${about.name} ${escapeHtml(about.version)}</title>
    <style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;line-height:1.5}</style>
  </head>
  <body>
    <h1>${about.name} <small>${escapeHtml(about.version)}</small></h1>
    <p>${escapeHtml(about.description)}</p>
    <ul>
      ${items}
    </ul>
  </body>
</html>
`;
}

/** The dashboard's shell: its script (`web/`, bundled by dashboard.ts) draws the views into `<main>`. */
function dashboardPage(about: { name: string; version: string; links: Record<string, string> }, dash: DashboardPage) {
  const links = Object.entries(about.links)
    .map(([name, href]) => `<a href="${escapeHtml(href)}">${escapeHtml(LABELS[name] ?? name)}</a>`)
    .join(' ');
  // JSON in a script element: `<` escaped so no value can close the element
  const config = JSON.stringify({
    version: about.version,
    timezone: dash.timezone,
    sampleFile: dash.sampleFile,
    modules: dash.modules(),
  }).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <meta name="color-scheme" content="light dark">
    <title>${about.name} ${escapeHtml(about.version)}</title>
    <link rel="stylesheet" href="/dashboard/app.css">
    <script type="application/json" id="wattline-config">${config}</script>
    <script src="/dashboard/app.js" defer></script>
  </head>
  <body>
    <header>
      <h1>${about.name} <small>${escapeHtml(about.version)}</small></h1>
      <nav id="views" aria-label="Views"></nav>
    </header>
    <section id="period" aria-label="Period"></section>
    <main id="app"><noscript>The dashboard needs JavaScript; the API is at <a href="/docs">/docs</a>.</noscript></main>
    <footer>${links}</footer>
  </body>
</html>
`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
