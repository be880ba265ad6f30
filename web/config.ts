/** What the server embeds in the page (`src/core/http/root.ts`). */
export interface Config {
  version: string;
  /** IANA zone every time is shown in (the `timezone` setting). */
  timezone: string;
  /** Path of the sample readings on the server, for the empty state's curl command. */
  sampleFile: string;
  /** The server's modules that are switched on: a view of a module that is off is not shown. */
  modules: string[];
}

export function readConfig(): Config {
  const element = document.getElementById('wattline-config');
  return JSON.parse(element?.textContent ?? '{}') as Config;
}
