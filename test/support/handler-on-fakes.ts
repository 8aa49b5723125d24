import type { VpnConnection } from '../../lambda/core/client-vpn-api';
import { createEvictorHandler } from '../../lambda/create-evictor-handler';
import { testConfig } from './events';
import { FakeClientVpnApi } from './fake-client-vpn';
import { FakeQuarantineStore } from './fake-quarantine';
import { recorders } from './recorders';

/**
 * The evictor's handler at `now` on fakes of the fleet and of a quarantine table, with a notifier that keeps the
 * subjects it is given and recorders of the log and the metrics: for the identity providers' events, which
 * quarantine, notify and reject.
 */
export function handlerOnFakes(connections: VpnConnection[], now: number, env: Record<string, string>) {
  const config = testConfig({ QUARANTINE_TABLE: 'quarantine', ...env });
  const api = new FakeClientVpnApi(connections);
  const quarantine = new FakeQuarantineStore();
  const published: string[] = [];
  const { logger, metrics, metricValues, lines } = recorders();
  const deps = {
    config,
    api,
    logger,
    metrics,
    quarantine,
    clock: () => now,
    notifier: { publish: async (subject: string) => void published.push(subject) },
  };
  return { deps, api, quarantine, published, metricValues, lines, handler: createEvictorHandler(deps) };
}
