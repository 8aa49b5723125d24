import type { Logger } from '@aws-lambda-powertools/logger';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import {
  type ConnectDecision,
  type ConnectResponse,
  type ConnectSettings,
  cannotCheck,
  decideConnect,
  deny,
  toConnectResponse,
} from './core/connect';
import type { QuarantineStore } from './core/quarantine';

export interface ConnectDependencies {
  settings: ConnectSettings;
  quarantine: QuarantineStore;
  logger: Pick<Logger, 'info' | 'warn'>;
  metrics: Pick<Metrics, 'addMetric' | 'singleMetric'>;
  clock?: () => number;
  /**
   * The longest the handler waits for its decision before it denies. Client VPN waits 30 s, but a user waits too;
   * the store's own timeouts (CONNECT_HANDLER_BUDGET, about 650 ms at worst) should fire well before this.
   */
  deadlineMs?: number;
}

/** The dashboard draws it on the handler's duration. */
export const DEFAULT_DEADLINE_MS = 1_000;

/**
 * The client-connect handler over its dependencies: one decision per connection, one audit line per decision,
 * and metrics for allowed, denied, and errors. It never throws, since Client VPN would deny with its own message;
 * every failure becomes a denial that says whom to contact. The lifecycle around it (the Lambda context on the log
 * lines, the metrics flush, the trace) is lifecycle.ts's.
 */
export function createConnectHandler({
  settings,
  quarantine,
  logger,
  metrics,
  clock = Date.now,
  deadlineMs = DEFAULT_DEADLINE_MS,
}: ConnectDependencies) {
  const mode = settings.dryRun ? 'DRY-RUN' : 'ENFORCING';
  type Decided = Awaited<ReturnType<typeof decideConnect>>;

  return async function handler(event: unknown): Promise<ConnectResponse> {
    let timer: NodeJS.Timeout | undefined;
    try {
      const late = new Promise<Decided>((resolve) => {
        const detail = `no decision within ${deadlineMs} ms (the quarantine table did not answer)`;
        timer = setTimeout(
          () =>
            resolve({ decision: deny(settings, 'quarantine-unavailable', cannotCheck(settings), detail) }),
          deadlineMs,
        );
      });
      const failed = (error: unknown): Decided => ({
        decision: deny(settings, 'internal-error', cannotCheck(settings), (error as Error).message),
      });
      const { request, decision }: Decided = await Promise.race([
        decideConnect(event, quarantine, settings, clock()).catch(failed),
        late,
      ]);
      audit(decision, request);
      return toConnectResponse(decision);
    } finally {
      clearTimeout(timer);
    }
  };

  function audit(decision: ConnectDecision, request: Decided['request']): void {
    const line = {
      mode,
      allow: decision.allow,
      rule: decision.rule,
      ...(decision.wouldDeny ? { wouldDeny: true } : {}),
      ...(decision.detail ? { detail: decision.detail } : {}),
      ...(request
        ? {
            endpointId: request['endpoint-id'],
            connectionId: request['connection-id'],
            username: request.username ?? '',
            commonName: request['common-name'] ?? '',
            publicIp: request['public-ip'] ?? '',
          }
        : {}),
    };
    if (decision.allow && !decision.wouldDeny && !decision.detail) logger.info('connect decision', line);
    else logger.warn('connect decision', line);
    const metric = decision.wouldDeny
      ? 'ConnectsWouldDeny'
      : decision.allow
        ? 'ConnectsAllowed'
        : 'ConnectsDenied';
    metrics.addMetric(metric, MetricUnit.Count, 1);
    if (decision.rule === 'quarantine-unavailable')
      metrics.addMetric('QuarantineStoreErrors', MetricUnit.Count, 1);
    if (decision.rule === 'internal-error') metrics.addMetric('ConnectErrors', MetricUnit.Count, 1);
    if (!decision.allow || decision.wouldDeny) {
      // Which rule denied (or would have, in a dry run), as a dimension of one metric of its own, so that the other
      // metrics keep their one dimension; a handful of rules keeps it to a handful of metrics.
      const byRule = metrics.singleMetric();
      byRule.addDimension('rule', decision.rule);
      byRule.addMetric('DenialsByRule', MetricUnit.Count, 1);
    }
  }
}
