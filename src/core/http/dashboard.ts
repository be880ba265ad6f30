import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';

const here = path.dirname(fileURLToPath(import.meta.url));
/** The dashboard's source (TypeScript, bundled in memory: nothing built is committed or written). */
export const WEB_ENTRY = path.resolve(here, '../../../web/main.ts');
/** The sample the empty state tells the user to send, as the start banner does. */
export const SAMPLE_FILE = path.resolve(here, '../../../samples/readings.ndjson');

interface Bundle {
  js: string;
  css: string;
}

let bundling: Promise<Bundle> | undefined;

/**
 * Bundles `web/` with esbuild on first request and keeps it for the life of the process: start-up
 * (and every test that never opens the page) pays nothing. A failed bundle is retried on the next request.
 */
export function dashboardBundle(): Promise<Bundle> {
  bundling ??= bundle().catch((err) => {
    bundling = undefined;
    throw err;
  });
  return bundling;
}

async function bundle(): Promise<Bundle> {
  // imported here: esbuild starts a helper process, which only a served dashboard needs
  const esbuild = await import('esbuild');
  const result = await esbuild.build({
    entryPoints: [WEB_ENTRY],
    bundle: true,
    write: false,
    outdir: 'out',
    format: 'iife',
    minify: true,
    target: 'es2020',
    logLevel: 'silent',
  });
  const text = (ext: string) => result.outputFiles.find((f) => f.path.endsWith(ext))?.text ?? '';
  return { js: text('.js'), css: text('.css') };
}

/** `GET /dashboard/app.js` and `/dashboard/app.css`: the page's script and styles, public like the page. */
export function registerDashboardAssets(http: FastifyInstance) {
  const asset = (file: 'app.js' | 'app.css', type: string, pick: (b: Bundle) => string) =>
    http.get(
      `/dashboard/${file}`,
      {
        config: { access: 'public' },
        schema: { summary: `The dashboard's ${file === 'app.js' ? 'script' : 'styles'}`, tags: ['operations'] },
      },
      async (_request, reply) =>
        reply
          .type(type)
          .header('cache-control', 'no-cache')
          .send(pick(await dashboardBundle())),
    );
  asset('app.js', 'text/javascript; charset=utf-8', (b) => b.js);
  asset('app.css', 'text/css; charset=utf-8', (b) => b.css);
}
