import type { VpnConnection } from '../../lambda/core/client-vpn-api';
import { parseEvent } from '../../lambda/core/events';
import { evict } from '../../lambda/core/evict';
import { decide } from '../../lambda/core/policy';
import { testConfig } from './events';
import { FakeClientVpnApi } from './fake-client-vpn';
import { FakeQuarantineStore } from './fake-quarantine';

/** One event through the core at `now`, on fakes of the fleet and of a quarantine table, for what both record. */
export async function evictWithQuarantine(
  event: unknown,
  connections: VpnConnection[],
  now: number,
  env: Record<string, string> = {},
) {
  const config = testConfig({ QUARANTINE_TABLE: 'quarantine', ...env });
  const api = new FakeClientVpnApi(connections);
  const store = new FakeQuarantineStore();
  const result = await evict(
    decide(parseEvent(event, config.eventSource), config),
    { api, quarantine: store, clock: () => now },
    config,
  );
  return { result, api, store };
}
