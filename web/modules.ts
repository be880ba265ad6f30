/**
 * Which views the page offers: only those of the server's modules that are on. Kept apart from
 * main.ts (no DOM) so a unit test can check it with views of a module that is off.
 */

/** The views whose module is on, in their order; a view without a module is always shown. */
export function viewsOn<V extends { module?: string }>(views: readonly V[], modules: readonly string[]): V[] {
  return views.filter((v) => !v.module || modules.includes(v.module));
}

/** The view `?view=` names among those shown, else the first: a view that is off cannot be opened by its URL either. */
export function chosenView<V extends { id: string }>(shown: readonly V[], id: string | null): V {
  return shown.find((v) => v.id === id) ?? shown[0];
}
