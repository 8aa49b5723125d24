import type { VpnConnection } from '../lambda/core/client-vpn-api';
import type { Progress } from '../lambda/core/evict';
import type { EvictionResult, Outcome } from '../lambda/core/result';

function table(rows: string[][]): string {
  const widths = (rows[0] ?? []).map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows
    .map((r) =>
      r
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export function connectionsTable(
  listings: Array<{ endpointId: string; connections: VpnConnection[]; error?: string }>,
): string {
  const rows = [['ENDPOINT', 'CONNECTION', 'USERNAME', 'COMMON NAME', 'CLIENT IP']];
  for (const { connections } of listings) {
    for (const c of connections)
      rows.push([c.endpointId, c.connectionId, c.username || '-', c.commonName, c.clientIp]);
  }
  const errors = listings.filter((l) => l.error).map((l) => `error: ${l.error}`);
  const total = listings.reduce((n, l) => n + l.connections.length, 0);
  return `${[table(rows), `${total} active connections on ${listings.length} endpoints`, ...errors].join('\n')}\n`;
}

/** A one-line bar on a terminal: Terminate calls started of those planned. */
export function progressBar(stream: NodeJS.WriteStream): { update: Progress; finish: () => void } {
  return {
    update: (started, planned) => {
      if (planned === 0) return;
      const width = 30;
      const filled = Math.min(width, Math.round((started / planned) * width));
      stream.write(
        `\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${started}/${planned} Terminate calls`,
      );
    },
    finish: () => stream.write('\r\u001b[K'),
  };
}

const describeOutcome = (o: Outcome) => {
  const detail = o.status === 'failed' || o.status === 'skipped' ? ` (${o.reason})` : '';
  return `  ${o.status.padEnd(15)} ${o.endpointId}  ${o.connectionId}  ${o.username || '-'}${detail}`;
};

/** What an operator reads after evict or disconnect-all: mode, who, per endpoint, calls, and why. */
export function resultSummary(result: EvictionResult): string {
  const lines = [
    `${result.mode}  ${result.trigger}  ${result.status}  (correlation id ${result.correlationId})`,
    `users: ${result.users.length > 0 ? result.users.join(', ') : '-'}`,
    ...(result.notConnected.length > 0 ? [`not connected: ${result.notConnected.join(', ')}`] : []),
    ...result.endpoints.map(
      (e) =>
        `${e.endpointId}: ${e.terminated} terminated, ${e.wouldTerminate} would be terminated, ${e.failed} failed, ${e.skipped} skipped${e.error ? `; ${e.error}` : ''}`,
    ),
  ];
  const shown = result.outcomes.filter((o) => o.status === 'failed' || o.status === 'skipped');
  const all = result.outcomes.length <= 50 ? result.outcomes : shown;
  lines.push(...all.map(describeOutcome));
  lines.push(`API calls: ${result.apiCalls.describe} Describe, ${result.apiCalls.terminate} Terminate`);
  lines.push(...result.notes.map((note) => `note: ${note}`));
  return `${lines.join('\n')}\n`;
}
