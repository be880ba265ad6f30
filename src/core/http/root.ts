import type { FastifyInstance } from 'fastify';

/** Where `GET /` points: the docs, the API description, and the operations endpoints. */
const LINKS = { docs: '/docs', openapi: '/openapi.json', metrics: '/metrics', health: '/health' } as const;

const LABELS: Record<string, string> = {
  docs: 'API documentation',
  openapi: 'OpenAPI document',
  metrics: 'Prometheus metrics',
  health: 'Health',
  dashboard: 'Dashboard',
};

/**
 * `GET /`: what this server is and where to go next, as HTML for browsers (Accept: text/html) and
 * JSON for everything else. Public. `dashboard`, when a dashboard is served, adds a link to it
 * (none exists yet: this is the hook).
 */
export function registerRootPage(http: FastifyInstance, options: { version: string; dashboard?: string }) {
  const links: Record<string, string> = { ...LINKS, ...(options.dashboard ? { dashboard: options.dashboard } : {}) };
  const about = {
    name: 'Wattline',
    version: options.version,
    description: 'Energy telemetry: readings in, stored, queried.',
    links,
  };
  const html = page(about);
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
      if (wantsHtml(request.headers.accept)) return reply.type('text/html; charset=utf-8').send(html);
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

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
