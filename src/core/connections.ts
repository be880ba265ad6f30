/** What `/ready` says of one outside service a module depends on. */
export interface ConnectionReport {
  status: 'ok' | 'unavailable';
  /** When it last changed (ISO 8601). */
  since: string;
  /** Why it is unavailable, as the client library said (never a password: modules redact). */
  error?: string;
}

/**
 * The outside services modules depend on beyond the store and the bus (an MQTT broker, say), each
 * with whether it answers now. `/ready` lists them; they do not make the process unready: its HTTP
 * ingest and queries still work while a broker is away, so a load balancer should keep sending to it.
 */
export class Connections {
  private readonly reports = new Map<string, ConnectionReport>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Records `name` as up or down; the time changes only when the state does. */
  set(name: string, up: boolean, error?: string): void {
    const status = up ? 'ok' : 'unavailable';
    const previous = this.reports.get(name);
    const since = previous?.status === status ? previous.since : new Date(this.now()).toISOString();
    this.reports.set(name, up || !error ? { status, since } : { status, since, error });
  }

  delete(name: string): void {
    this.reports.delete(name);
  }

  /** Every service reported, by name, sorted; empty when no module depends on one. */
  snapshot(): Record<string, ConnectionReport> {
    return Object.fromEntries([...this.reports].sort(([a], [b]) => a.localeCompare(b)));
  }
}
