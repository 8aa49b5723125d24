import type { TerminateTarget, VpnConnection } from './client-vpn-api';
import { MAX_CONNECTIONS_PER_USERNAME_CALL } from './limits';

/** One Terminate call and the connections it is meant to end. */
export interface PlannedCall {
  target: TerminateTarget;
  connections: VpnConnection[];
}

/**
 * The fewest Terminate calls that end exactly `selected` on one endpoint. A user all of whose one to five
 * active connections are selected costs one call by Username (AWS accepts Username only up to five
 * connections); anything else, including certificate connections without a username, costs one call per
 * connection. `listed` is every active connection of the users concerned, so "all of a user's" is known.
 */
export function planEndpoint(
  selected: readonly VpnConnection[],
  listed: readonly VpnConnection[],
): PlannedCall[] {
  const activeByUser = new Map<string, number>();
  for (const c of listed)
    if (c.username) activeByUser.set(c.username, (activeByUser.get(c.username) ?? 0) + 1);
  const byUser = new Map<string, VpnConnection[]>();
  const calls: PlannedCall[] = [];
  for (const c of selected) {
    if (!c.username) calls.push({ target: { connectionId: c.connectionId }, connections: [c] });
    else {
      const group = byUser.get(c.username) ?? [];
      group.push(c);
      byUser.set(c.username, group);
    }
  }
  for (const [username, connections] of byUser) {
    const allOfThem = connections.length === activeByUser.get(username);
    if (allOfThem && connections.length <= MAX_CONNECTIONS_PER_USERNAME_CALL) {
      calls.push({ target: { username }, connections });
    } else {
      calls.push(...connections.map((c) => ({ target: { connectionId: c.connectionId }, connections: [c] })));
    }
  }
  return calls;
}
