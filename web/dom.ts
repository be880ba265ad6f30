type Child = Node | string | null | undefined | false;

/** Makes an element: `h('a', { href: '/' }, 'home')`. Attributes with undefined values are left out. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Record<string, string | undefined> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) if (value !== undefined) element.setAttribute(name, value);
  for (const child of children) if (child) element.append(child);
  return element;
}

/** A message in place of a panel's content: errors are shown, never a blank panel. */
export function problem(message: string): HTMLElement {
  return h('p', { class: 'error', role: 'alert' }, message);
}

const kwh = new Intl.NumberFormat('en-GB', { minimumFractionDigits: 2, maximumFractionDigits: 2 });

/** An energy in kWh as shown everywhere (2 decimals), or a dash when nothing was measured. */
export function formatKwh(value: number | null | undefined): string {
  return value === null || value === undefined ? '—' : `${kwh.format(value)} kWh`;
}
