import type { Logger } from '@aws-lambda-powertools/logger';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import {
  type ConnectDecision,
  type ConnectResponse,
  type ConnectSettings,
  decideConnect,
  toConnectResponse,
} from './core/connect';
import type { QuarantineStore } from './core/quarantine';

export interface ConnectDependencies {
  settings: ConnectSettings;
  quarantine: QuarantineStore;
  logger: Pick<Logger, 'info' | 'warn' | 'addContext' | 'resetKeys'>;
  metrics: Pick<Metrics, 'addMetric' | 'publishStoredMetrics'>;
  clock?: () => number;
  /**
   * The longest the handler waits for the quarantine before it denies. Client VPN waits 30 s; a user waits too,
   * and the store's own timeouts (CONNECT_HANDLER_BUDGET) should fire well before this.
   */
  deadlineMs?: number;
}

const DEFAULT_DEADLINE_MS = 2_000;

/**
 * The client-connect handler over its dependencies: one decision per connection, one audit line per decision,
 * and metrics for allowed, denied and store errors. It never throws, since Client VPN would deny with its own
 * message; every failure becomes a denial that says whom to contact.
 */
export function createConnectHandler({
  settings,
  quarantine,
  logger,
  metrics,
  clock = Date.now,
  deadlineMs = DEFAULT_DEADLINE_MS,
}: ConnectDependencies) {
  const timedOut = (): ConnectDecision => ({
    allow: false,
    rule: 'quarantine-unavailable',
    message: `Your VPN connection could not be checked. Try again in a few minutes, or contact ${settings.supportContact}.`,
    detail: `no answer from the quarantine table within ${deadlineMs} ms`,
  });

  return async function handler(event: unknown, context?: Context): Promise<ConnectResponse> {
    if (context) logger.addContext(context);
    let timer: NodeJS.Timeout | undefined;
    try {
      type Decided = Awaited<ReturnType<typeof decideConnect>>;
      const deadline = new Promise<Decided>((resolve) => {
        timer = setTimeout(() => resolve({ decision: timedOut() }), deadlineMs);
      });
      const { request, decision } = await Promise.race([
        decideConnect(event, quarantine, settings, clock()).catch(
          (error: unknown): Decided => ({ decision: { ...timedOut(), detail: (error as Error).message } }),
        ),
        deadline,
      ]);
      const audit = {
        allow: decision.allow,
        rule: decision.rule,
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
      if (decision.allow) logger.info('connect decision', audit);
      else logger.warn('connect decision', audit);
      metrics.addMetric(decision.allow ? 'ConnectsAllowed' : 'ConnectsDenied', MetricUnit.Count, 1);
      if (decision.rule === 'quarantine-unavailable') {
        metrics.addMetric('QuarantineStoreErrors', MetricUnit.Count, 1);
      }
      return toConnectResponse(decision);
    } finally {
      clearTimeout(timer);
      metrics.publishStoredMetrics();
      logger.resetKeys();
    }
  };
}
