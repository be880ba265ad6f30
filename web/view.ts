import type { Config } from './config.js';
import type { Period } from './period.js';

/** What a view draws with: its element, the shared period, the URL's parameters and the page's config. */
export interface ViewContext {
  root: HTMLElement;
  period: Period;
  /** The period before, when "compare with the previous period" is on (`?compare=1`). */
  previous?: Period;
  params: URLSearchParams;
  config: Config;
  /**
   * Aborted when the page draws another view or period: a view closes what it opened (WebSockets,
   * timers) on its `abort` event and may pass it to fetch.
   */
  signal: AbortSignal;
  /** A link to this page with some URL parameters changed (undefined removes one). */
  href(changes: Record<string, string | undefined>): string;
}

/** A view: one file or folder under `web/views/`, listed once in `web/views/index.ts`. */
export interface View {
  /** Its name in the URL (`?view=`). */
  id: string;
  title: string;
  /** The server module whose data the view shows: the view is listed only when that module is on. */
  module?: string;
  /** Draws into `ctx.root`; errors it throws are shown in the page. */
  render(ctx: ViewContext): Promise<void>;
}
