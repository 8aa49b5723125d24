import type { Invocation } from '../emulator/lambda-container';
import type { ConnectResult, EmulatorSnapshot } from '../emulator/server';
import type { EvictionResult } from '../lambda/core/result';

interface EvictionStep {
  index: number;
  title: string;
  explain: string;
  event: Record<string, unknown>;
  before: EmulatorSnapshot;
  after: EmulatorSnapshot;
  invocation: Invocation;
  logs: Array<Record<string, unknown>>;
  verbose: boolean;
}

const activeCount = (s: EmulatorSnapshot) =>
  s.endpoints.flatMap((e) => e.connections).filter((c) => c.status === 'active').length;

/** A few readable lines per step: what came in, whom it resolved to, what was terminated, at what cost. */
export function narrateEviction(step: EvictionStep): string {
  const lines = [``, `${step.index}. ${step.title}`, `   ${step.explain}`];
  const detail = step.event.detail as Record<string, unknown> | undefined;
  lines.push(
    `   in:  ${step.event['detail-type']} from ${step.event.source}${detail?.type ? ` (${detail.type})` : ''}`,
  );
  if (step.invocation.error) {
    lines.push(
      `   !!  the invocation failed: ${step.invocation.error.name}: ${step.invocation.error.message}`,
    );
  } else {
    const result = step.invocation.result as EvictionResult;
    const total = (key: 'terminated' | 'wouldTerminate' | 'skipped') =>
      result.endpoints.reduce((n, e) => n + e[key], 0);
    lines.push(`   mode: ${result.mode}, outcome: ${result.status}`);
    if (result.origin) lines.push(`   raised in: account ${result.origin.account}, ${result.origin.region}`);
    lines.push(
      `   resolved: ${result.users.length > 0 ? result.users.slice(0, 8).join(', ') + (result.users.length > 8 ? `, ... (${result.users.length} users)` : '') : 'nobody'}`,
    );
    lines.push(
      `   result: ${total('terminated')} terminated, ${total('wouldTerminate')} would be terminated, ${total('skipped')} skipped; ` +
        `active connections ${activeCount(step.before)} -> ${activeCount(step.after)}`,
    );
    lines.push(
      `   EC2 API calls: ${result.apiCalls.describe} Describe, ${result.apiCalls.terminate} Terminate`,
    );
    const { sweep } = result;
    if (sweep) {
      lines.push(
        `   sessions ended: ${sweep.ended.idle} idle, ${sweep.ended.overAge} over age; kept: ${sweep.kept.protected} protected, ${sweep.kept.exempt} exempt; sweep state: ${sweep.table.reads} table reads, ${sweep.table.writes} writes`,
      );
    }
    for (const q of result.quarantine) {
      lines.push(
        `   quarantine: ${q.username} ${q.outcome}${q.until ? ` (until ${q.until === 'until-released' ? 'released' : q.until})` : ''}`,
      );
    }
    for (const note of result.notes) lines.push(`   note: ${note}`);
  }
  if (step.verbose) lines.push(...step.logs.map((line) => `   | ${JSON.stringify(line)}`));
  return `${lines.join('\n')}\n`;
}

/** A client connecting: what the client-connect handler answered, and what the user reads. */
export function narrateConnect(step: {
  index: number;
  title: string;
  explain: string;
  username: string;
  endpointId: string;
  result: ConnectResult;
  logs: Array<Record<string, unknown>>;
  verbose: boolean;
}): string {
  const lines = [``, `${step.index}. ${step.title}`, `   ${step.explain}`];
  lines.push(`   connect: ${step.username} to ${step.endpointId}`);
  lines.push(
    step.result.allowed
      ? `   allowed: connection ${step.result.connectionId}`
      : `   denied (${step.result.reason}): "${step.result.messageToUser}"`,
  );
  if (step.verbose) lines.push(...step.logs.map((line) => `   | ${JSON.stringify(line)}`));
  return `${lines.join('\n')}\n`;
}
