import type { EmulatorSnapshot } from './server';

/** A few human lines about the fleet: endpoints, active connections, users. */
export function summarize(snapshot: EmulatorSnapshot): string {
  return snapshot.endpoints
    .map((e) => {
      const active = e.connections.filter((c) => c.status === 'active');
      const users = new Set(active.map((c) => c.username || c.commonName));
      return `  ${e.clientVpnEndpointId}  ${e.clientCidrBlock.padEnd(15)} ${String(active.length).padStart(5)} active connections, ${users.size} users`;
    })
    .join('\n');
}
