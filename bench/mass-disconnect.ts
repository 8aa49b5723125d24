import { EC2Client } from '@aws-sdk/client-ec2';
import { generateFleet } from '../emulator/fleet';
import { type RunningEmulator, startEmulator } from '../emulator/server';
import { createEc2Client, Ec2ClientVpnApi } from '../lambda/adapters/ec2-client-vpn';
import { mapWithConcurrency } from '../lambda/core/concurrency';
import { parseEvictorConfig } from '../lambda/core/config';
import { parseEvent } from '../lambda/core/events';
import { evict } from '../lambda/core/evict';
import { DEFAULT_BUDGET_SHARE, EC2_MUTATING_BUCKET, shareOf } from '../lambda/core/pacer';
import { decide } from '../lambda/core/policy';

/** Refill 5x faster than EC2 so the benchmark finishes quickly; ratios are unaffected. */
const TIME_SCALE = 5;

interface Run {
  terminateCalls: number;
  throttled: number;
  /** Wall time scaled back to EC2's real refill rate. */
  ec2Seconds: number;
  terminated: number;
}

type Client = 'paced' | 'sdk-defaults';

async function measure(
  emulator: RunningEmulator,
  client: Client,
  disconnect: (api: Ec2ClientVpnApi) => Promise<void>,
): Promise<Run> {
  emulator.reset();
  emulator.setThrottle({ timeScale: TIME_SCALE });
  const settings = {
    endpoint: emulator.url,
    region: 'us-east-1',
    credentials: { accessKeyId: `AKIDBENCH${Date.now()}`, secretAccessKey: 'bench' },
  };
  // 'sdk-defaults' is what most scripts run: the SDK's default retries and no pacing at all.
  const ec2 = client === 'paced' ? createEc2Client(settings) : new EC2Client(settings);
  const pace =
    client === 'paced'
      ? (({ burst, refillPerSecond }) => ({ burst, refillPerSecond: refillPerSecond * TIME_SCALE }))(
          shareOf(EC2_MUTATING_BUCKET, DEFAULT_BUDGET_SHARE),
        )
      : { burst: 1e9, refillPerSecond: 1e9 };
  const started = performance.now();
  await disconnect(new Ec2ClientVpnApi(ec2, pace)).catch(() => undefined);
  const seconds = (performance.now() - started) / 1000;
  ec2.destroy();
  const { calls, endpoints } = emulator.snapshot();
  return {
    terminateCalls: Object.values(calls.TerminateClientVpnConnections ?? {}).reduce((a, b) => a + b, 0),
    throttled: Object.values(calls).reduce((n, outcomes) => n + (outcomes.RequestLimitExceeded ?? 0), 0),
    ec2Seconds: Math.round(seconds * TIME_SCALE * 10) / 10,
    terminated: endpoints.flatMap((e) => e.connections).filter((c) => c.status === 'terminated').length,
  };
}

/** Everyone off at the end of the day: the evictor's plan versus one Terminate per connection, as most scripts do. */
export async function massDisconnect(users = 300) {
  const seed = generateFleet({
    endpoints: 2,
    usersPerEndpoint: users / 2,
    certificateEndpoints: 0,
    recentlyTerminated: 0,
  });
  const emulator = await startEmulator({ seed });
  const endpointIds = seed.endpoints.map((e) => e.clientVpnEndpointId ?? '');
  const connections = seed.endpoints.reduce((n, e) => n + (e.connections?.length ?? 0), 0);
  const config = parseEvictorConfig({ ENDPOINT_IDS: endpointIds.join(','), DRY_RUN: 'false' });
  try {
    const planned = await measure(emulator, 'paced', async (api) => {
      const event = {
        id: 'bench',
        source: config.eventSource,
        'detail-type': 'Disconnect All VPN Users',
        detail: { reason: 'bench' },
      };
      await evict(decide(parseEvent(event, config.eventSource), config), { api }, config);
    });
    const oneCallEach = async (api: Ec2ClientVpnApi) => {
      for (const endpointId of endpointIds) {
        const { connections: active } = await api.listActiveConnections(endpointId);
        await mapWithConcurrency(active, config.concurrency, (c) =>
          api.terminate(endpointId, { connectionId: c.connectionId }, false).catch(() => undefined),
        );
      }
    };
    const perConnection = await measure(emulator, 'paced', oneCallEach);
    const typicalScript = await measure(emulator, 'sdk-defaults', oneCallEach);
    return { users, connections, planned, perConnection, typicalScript };
  } finally {
    await emulator.close();
  }
}
