/**
 * Node's error codes for a connection that never opened: nothing answered (refused, no DNS name,
 * no route). Clients (the pull sources' HTTP, the FTP locations) tell "unreachable" from other
 * failures by them.
 */
export const UNREACHABLE_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ENETUNREACH',
  'ENETDOWN',
  'EHOSTUNREACH',
  'EHOSTDOWN',
]);
