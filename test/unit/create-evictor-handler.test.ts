import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { CONNECT_HANDLER_BUDGET } from '../../lambda/adapters/dynamodb-client';
import { DynamoDbDeliveries } from '../../lambda/adapters/dynamodb-deliveries';
import { DynamoDbLeaseStore } from '../../lambda/adapters/dynamodb-lease';
import { DynamoDbQuarantineStore } from '../../lambda/adapters/dynamodb-quarantine';
import { ClientVpnApiError } from '../../lambda/core/client-vpn-api';
import { type ContinuationEvent, continuationEvent } from '../../lambda/core/continuation';
import { parseEvent } from '../../lambda/core/events';
import { MAX_ROUNDS } from '../../lambda/core/limits';
import { decide } from '../../lambda/core/policy';
import { EvictionIncompleteError } from '../../lambda/core/result';
import type { EvictionRequest } from '../../lambda/core/types';
import { createEvictorHandler, UnexpectedEvictorError } from '../../lambda/create-evictor-handler';
import { clientFor, closedPort, type LocalTable, startLocalTable } from '../support/dynamodb';
import { customEvent, ENDPOINT_A, ENDPOINT_B, fixture, testConfig } from '../support/events';
import { conn, FakeClientVpnApi } from '../support/fake-client-vpn';
import { recorders } from '../support/recorders';

/** A Lambda context whose remaining time runs out after `ms`. */
const contextFor = (ms: number) => {
  const deadline = Date.now() + ms;
  return { getRemainingTimeInMillis: () => deadline - Date.now() } as any;
};

function setup(connections = [conn(ENDPOINT_A, 'alice'), conn(ENDPOINT_B, 'bob')]) {
  const config = testConfig();
  const api = new FakeClientVpnApi(connections);
  const handedOff: ContinuationEvent[] = [];
  const published: string[] = [];
  const messages: string[] = [];
  const { logger, metrics, metricValues } = recorders();
  const handler = createEvictorHandler({
    config,
    api,
    logger,
    metrics,
    notifier: {
      publish: async (subject, message) => {
        published.push(subject);
        messages.push(message);
      },
    },
    continuation: { handOff: async (event) => void handedOff.push(event) },
  });
  return { config, api, handler, handedOff, published, messages, metricValues };
}

const endOfDay = customEvent('Disconnect All VPN Users', { reason: 'end of day' });

describe('errors by kind, and the hand-off', () => {
  it('a failure no retry can fix: one notice, a metric, no throw (so no Lambda retry)', async () => {
    const { api, handler, handedOff, published, metricValues } = setup();
    api.failures.set(
      `list:${ENDPOINT_B}`,
      new ClientVpnApiError('InvalidClientVpnEndpointId.NotFound', 'gone'),
    );
    const result = await handler(endOfDay);
    expect(result.status).toBe('failed');
    expect(handedOff).toEqual([]);
    expect(published).toEqual([
      '[client-vpn-evictor ENFORCING] disconnect-all: FAILED: 1 endpoint not listed; 1 terminated',
    ]);
    expect(metricValues).toContainEqual({ name: 'PermanentFailures', value: 1 });
  });

  it("counts EC2's throttles of a run as Ec2Throttles, each once, and none when there were none", async () => {
    const { api, handler, metricValues } = setup();
    api.throttles = 7;
    await handler(endOfDay);
    expect(metricValues.filter((m) => m.name === 'Ec2Throttles')).toEqual([
      { name: 'Ec2Throttles', value: 7 },
    ]);
    await handler(customEvent('Disconnect All VPN Users', { reason: 'again' }));
    expect(metricValues.filter((m) => m.name === 'Ec2Throttles')).toHaveLength(1);
  });

  it('a transient failure hands the rest on, with the decided request, and stays quiet until the last round', async () => {
    const { config, api, handler, handedOff, published } = setup();
    api.failures.set(
      `${ENDPOINT_B}/user:bob`,
      new ClientVpnApiError('InternalError', 'busy', { transient: true }),
    );
    const result = await handler(endOfDay);
    expect(result.status).toBe('continuing');
    expect(published).toEqual([]);
    expect(handedOff).toHaveLength(1);
    // The hand-off is an event the evictor accepts, and decides into the round the result left.
    const next = decide(parseEvent(handedOff[0], config.eventSource), config);
    expect(next).toMatchObject({ trigger: 'disconnect-all', round: 2, correlationId: endOfDay.id });

    api.failures.clear();
    const last = await handler(handedOff[0]);
    expect(last).toMatchObject({ status: 'completed', round: 2 });
    expect(published).toEqual([
      // Counting the connection the first round ended.
      '[client-vpn-evictor ENFORCING] disconnect-all (round 2): 2 connections terminated',
    ]);
  });

  it('both kinds at once: the permanent one is told once, the transient one goes on', async () => {
    const { api, handler, handedOff, published } = setup([
      conn(ENDPOINT_A, 'alice'),
      conn(ENDPOINT_B, 'bob'),
    ]);
    api.failures.set(`${ENDPOINT_A}/user:alice`, new ClientVpnApiError('UnauthorizedOperation', 'no'));
    api.failures.set(
      `${ENDPOINT_B}/user:bob`,
      new ClientVpnApiError('InternalError', 'busy', { transient: true }),
    );
    const result = await handler(endOfDay);
    expect(result.status).toBe('continuing');
    expect(published).toEqual([
      // Cut to SNS's 100 characters: what needs a person comes first.
      '[client-vpn-evictor ENFORCING] disconnect-all: FAILED: 2 not terminated; 0 terminated; continuing',
    ]);
    // The endpoint that cannot be fixed by a retry is not carried on.
    expect(handedOff[0]?.detail.endpointIds).toEqual([ENDPOINT_B]);
  });

  it('runs out of time: stops starting calls and hands the rest on', async () => {
    const connections = Array.from({ length: 40 }, (_, i) => conn(ENDPOINT_A, `u${i}`));
    const { api, handler, handedOff } = setup(connections);
    const terminate = api.terminate.bind(api);
    api.terminate = async (...args) => {
      await new Promise((resolve) => setTimeout(resolve, 100));
      return terminate(...args);
    };
    // 3 s left and 2.5 s kept back: half a second of 100 ms calls, four at a time, of the ten rounds of calls.
    const result = await handler(endOfDay, contextFor(3_000));
    expect(result.status).toBe('continuing');
    expect(api.terminated.size).toBeGreaterThan(0);
    expect(api.terminated.size).toBeLessThan(40);
    expect(handedOff[0]?.detail.round).toBe(2);
  });

  it('keeps the original error as the cause when the invocation fails', async () => {
    const { config, api, handler } = setup();
    const original = new ClientVpnApiError('InternalError', 'busy', { transient: true });
    api.failures.set(`${ENDPOINT_B}/user:bob`, original);
    const request = decide(parseEvent(endOfDay, config.eventSource), config);
    const lastRound = { ...request, round: MAX_ROUNDS };
    const error = await handler(continuationEvent(lastRound as EvictionRequest, config.eventSource, 0)).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(EvictionIncompleteError);
    expect((error as Error).cause).toBe(original);
  });

  it('a notice never says a person was evicted while a session of theirs is still up', async () => {
    // A client address leads to erin on A; her session on B cannot be ended (EC2 denies the permission there).
    const beforeFinding = Date.parse('2022-01-13T00:00:00Z');
    const { api, handler, messages, published, metricValues } = setup([
      conn(ENDPOINT_A, 'erin', { clientIp: '172.16.0.9', establishedAt: beforeFinding }),
      conn(ENDPOINT_B, 'erin', { clientIp: '172.17.0.8' }),
    ]);
    api.failures.set(ENDPOINT_B, new ClientVpnApiError('UnauthorizedOperation', 'denied'));
    const result = await handler(fixture('network-connection'));
    expect(result).toMatchObject({ status: 'failed', users: ['erin'], stillConnected: ['erin'] });
    expect(published).toEqual([
      // The finding names its account and Region, which no deployment account is configured to leave out; SNS
      // subjects stop at 100 characters.
      '[client-vpn-evictor ENFORCING] guardduty from 123456789012 us-east-1: FAILED: 1 not terminated; 1...',
    ]);
    expect(JSON.parse(messages[0] ?? '{}')).toMatchObject({ users: ['erin'], stillConnected: ['erin'] });
    expect(metricValues).toContainEqual({ name: 'UsersEvicted', value: 0 });

    // With both sessions ended, she is evicted, and nobody is still connected.
    const ended = setup([
      conn(ENDPOINT_A, 'erin', { clientIp: '172.16.0.9', establishedAt: beforeFinding }),
      conn(ENDPOINT_B, 'erin', { clientIp: '172.17.0.8' }),
    ]);
    expect(await ended.handler(fixture('network-connection'))).toMatchObject({
      status: 'completed',
      stillConnected: [],
    });
    expect(ended.published).toEqual([
      '[client-vpn-evictor ENFORCING] guardduty from 123456789012 us-east-1: 2 connections terminated',
    ]);
    expect(ended.metricValues).toContainEqual({ name: 'UsersEvicted', value: 1 });
  });

  describe('a quarantine the table refuses', () => {
    const evictBob = customEvent('Evict VPN User', { usernames: ['bob'], reason: 'phished' });
    async function withStore(store: (table: LocalTable) => DynamoDbQuarantineStore) {
      const table = await startLocalTable();
      const api = new FakeClientVpnApi([conn(ENDPOINT_A, 'alice'), conn(ENDPOINT_B, 'bob')]);
      const published: string[] = [];
      const { logger, metrics, metricValues, lines } = recorders();
      const handler = createEvictorHandler({
        config: testConfig({ QUARANTINE_TABLE: table.db.tableName }),
        api,
        logger,
        metrics,
        quarantine: store(table),
        notifier: { publish: async (subject) => void published.push(subject) },
      });
      return { table, api, handler, published, metricValues, lines };
    }

    it('for good (a table that is not there): reported once, failed, counted, not retried, the cause named', async () => {
      const { table, api, handler, published, metricValues } = await withStore(
        (t) => new DynamoDbQuarantineStore(t.client, 'no-such-table'),
      );
      try {
        // No throw: Lambda does not retry what no retry can fix.
        const result = await handler(evictBob);
        expect(result).toMatchObject({
          status: 'failed',
          quarantine: [
            {
              username: 'bob',
              outcome: 'failed',
              transient: false,
              error: expect.stringMatching(
                /^DynamoDB PutItem on table no-such-table failed with ResourceNotFoundException/,
              ),
            },
          ],
        });
        // The eviction itself still happened.
        expect(api.terminated.size).toBe(1);
        expect(published).toEqual([
          '[client-vpn-evictor ENFORCING] evict: FAILED: quarantine not written for 1; 1 terminated',
        ]);
        expect(metricValues).toContainEqual({ name: 'PermanentFailures', value: 1 });
      } finally {
        await table.close();
      }
    });

    it('for now (nothing answers): fails the invocation for a retry, with a message that names the cause', async () => {
      const port = await closedPort();
      const { table, handler, published } = await withStore(
        (t) =>
          new DynamoDbQuarantineStore(
            clientFor(`http://127.0.0.1:${port}`, CONNECT_HANDLER_BUDGET),
            t.db.tableName,
          ),
      );
      try {
        const error = await handler(evictBob).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(EvictionIncompleteError);
        expect((error as Error).message).toMatch(
          new RegExp(
            `^eviction ${evictBob.id} incomplete: quarantine not written for 1 \\(DynamoDB PutItem on table ${table.db.tableName} failed with `,
          ),
        );
        expect(published).toEqual([
          '[client-vpn-evictor ENFORCING] evict: FAILED: quarantine not written for 1; 1 terminated',
        ]);
      } finally {
        await table.close();
      }
    });
  });

  it('a hand-off that cannot be sent fails the invocation, so that Lambda retries the round', async () => {
    const { api } = setup();
    api.failures.set(
      `${ENDPOINT_B}/user:bob`,
      new ClientVpnApiError('InternalError', 'busy', { transient: true }),
    );
    const config = testConfig();
    const { logger, metrics } = recorders();
    const broken = createEvictorHandler({
      config,
      api,
      logger,
      metrics,
      continuation: {
        handOff: async () => {
          throw new Error('Lambda is down');
        },
      },
    });
    const error = await broken(endOfDay).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnexpectedEvictorError);
    expect((error as Error).message).toBe('Lambda is down');
  });
});

describe('a request delivered more than once (its record of deliveries on dynalite)', () => {
  const evictBob = customEvent('Evict VPN User', { usernames: ['bob'], reason: 'phished' });
  /** A Lambda invocation: Lambda keeps the request id when it retries; another delivery has its own. */
  const attempt = (awsRequestId: string) => ({ ...contextFor(60_000), awsRequestId });
  let table: LocalTable;
  beforeEach(async () => {
    table = await startLocalTable();
  });
  afterEach(() => table.close());

  function withDeliveries(
    connections = [conn(ENDPOINT_A, 'alice'), conn(ENDPOINT_B, 'bob')],
    deliveries = new DynamoDbDeliveries(table.client, table.db.tableName, 3600),
    config = testConfig(),
  ) {
    const api = new FakeClientVpnApi(connections);
    const published: string[] = [];
    const handedOff: ContinuationEvent[] = [];
    let lambdaIsDown = false;
    const { logger, metrics, metricValues, lines } = recorders();
    const handler = createEvictorHandler({
      config,
      api,
      logger,
      metrics,
      lease: new DynamoDbLeaseStore(table.client, table.db.tableName),
      deliveries,
      notifier: { publish: async (subject) => void published.push(subject) },
      continuation: {
        handOff: async (event) => {
          if (lambdaIsDown) throw new Error('Lambda is down');
          handedOff.push(event);
        },
      },
    });
    return {
      api,
      handler,
      published,
      handedOff,
      metricValues,
      lines,
      setLambdaDown: (down: boolean) => {
        lambdaIsDown = down;
      },
    };
  }

  /** Makes the next listing wait until the returned function is called: an attempt still running, or one that died. */
  function holdTheNextListing(api: FakeClientVpnApi): () => void {
    const list = api.listActiveConnections.bind(api);
    let open = () => {};
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    let held = false;
    api.listActiveConnections = async (...args) => {
      if (!held) {
        held = true;
        await gate;
      }
      return list(...args);
    };
    return open;
  }

  it('a second delivery of a single-user eviction does not run again, nor send a second notice', async () => {
    const { api, handler, published, metricValues } = withDeliveries();
    expect(await handler(evictBob, attempt('request-1'))).toMatchObject({ status: 'completed' });
    const calls = api.calls.length;
    const again = await handler(evictBob, attempt('request-2'));
    expect(again).toMatchObject({
      status: 'ignored',
      notes: ['another delivery of this request has run, or is running'],
    });
    expect(api.calls).toHaveLength(calls);
    expect(published).toEqual(['[client-vpn-evictor ENFORCING] evict: 1 connections terminated']);
    expect(metricValues).toContainEqual({ name: 'DeliveriesIgnored', value: 1 });
    // One record for the request, in the key family the evictor's role may touch, expiring through the table's TTL.
    const records = (await table.client.send(new ScanCommand({ TableName: table.db.tableName }))).Items ?? [];
    const delivery = records.filter((item) => item.pk?.S?.startsWith('idempotency#'));
    expect(delivery).toHaveLength(1);
    expect(Number(delivery[0]?.expiresAtEpochSeconds?.N)).toBeGreaterThan(Date.now() / 1000 + 3500);
  });

  it('an update of a finding (a new event with the same finding id) runs: only a delivery of the same event is not run again', async () => {
    const { api, handler, published } = withDeliveries([
      conn(ENDPOINT_A, 'dave.chen'),
      conn(ENDPOINT_B, 'bob'),
    ]);
    const finding = fixture('iam-user');
    expect(await handler(finding, attempt('request-1'))).toMatchObject({ status: 'completed' });
    expect(await handler(finding, attempt('request-2'))).toMatchObject({ status: 'ignored' });
    const calls = api.calls.length;
    // GuardDuty publishes new activity on a finding as a new event (its own id) with the same finding id, a higher
    // count and a later eventLastSeen.
    const update = structuredClone(finding);
    update.id = 'a-later-event-of-the-same-finding';
    update.detail.service.count += 1;
    update.detail.service.eventLastSeen = '2022-01-13T00:20:47.000Z';
    const updated = await handler(update, attempt('request-3'));
    expect(updated).not.toMatchObject({ status: 'ignored' });
    expect(api.calls.length).toBeGreaterThan(calls);
    expect(published).toHaveLength(2);
  });

  it("one finding through both routes at once, GuardDuty's event and Security Hub's copy: one eviction, one notice", async () => {
    const alice = 'alice.smith@corp.example.com';
    const api = new FakeClientVpnApi([
      conn(ENDPOINT_A, alice),
      conn(ENDPOINT_B, alice),
      conn(ENDPOINT_B, 'bob'),
    ]);
    const published: string[] = [];
    const { logger, metrics, metricValues } = recorders();
    const handler = createEvictorHandler({
      config: testConfig(),
      api,
      logger,
      metrics,
      quarantine: new DynamoDbQuarantineStore(table.client, table.db.tableName),
      deliveries: new DynamoDbDeliveries(table.client, table.db.tableName, 3600),
      notifier: { publish: async (subject) => void published.push(subject) },
    });
    // Two events (each its own id), two invocations (each its own request id), started together.
    const results = await Promise.all([
      handler(fixture('sso-session-other-account'), attempt('request-guardduty')),
      handler(fixture('sso-session-other-account', 'securityhub'), attempt('request-securityhub')),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual(['completed', 'ignored']);
    expect(published).toEqual([
      '[client-vpn-evictor ENFORCING] guardduty from 111122223333 eu-west-1: 2 connections terminated',
    ]);
    // Each of Alice's two connections ended by one call, none twice; Bob's left alone.
    const terminates = api.calls.filter((c) => c.op === 'terminate');
    expect(terminates).toHaveLength(2);
    expect(new Set(terminates.map((c) => c.endpointId))).toEqual(new Set([ENDPOINT_A, ENDPOINT_B]));
    expect(api.terminated.size).toBe(2);
    expect(metricValues).toContainEqual({ name: 'DeliveriesIgnored', value: 1 });
  });

  it("Security Hub's copy of an EKS finding, which resolves nobody, does not stand for GuardDuty's event, which names the user", async () => {
    const carol = 'carol@corp.example.com';
    const { api, handler, published } = withDeliveries(
      [conn(ENDPOINT_A, carol), conn(ENDPOINT_B, 'bob')],
      undefined,
      testConfig({
        IDENTITY_MAP: '{"arn:aws:sts::123456789012:assumed-role/eks-admins/carol":"carol@corp.example.com"}',
      }),
    );
    const guardDuty = fixture('kubernetes');
    // The same finding as Security Hub imports it: its id, its account, its last activity; ASFF has no Kubernetes
    // user and no Kubernetes API call's address, so the copy names nobody.
    const securityHub = fixture('sso-session-other-account', 'securityhub');
    const copy = securityHub.detail.findings[0];
    copy.Id = `arn:aws:guardduty:us-east-1:123456789012:detector/48bf285e13736c6c722945805b3e224a/finding/${guardDuty.detail.id}`;
    copy.AwsAccountId = '123456789012';
    copy.Types = ['TTPs/Discovery/Kubernetes-MaliciousIPCaller'];
    copy.LastObservedAt = guardDuty.detail.service.eventLastSeen;
    copy.Resources = [{ Type: 'AwsEksCluster', Id: 'arn:aws:eks:us-east-1:123456789012:cluster/prod' }];
    delete copy.Action;
    expect(await handler(securityHub, attempt('request-securityhub'))).toMatchObject({
      status: 'ignored',
      notes: expect.arrayContaining(['no VPN user or client address resolved']),
    });
    expect(await handler(guardDuty, attempt('request-guardduty'))).toMatchObject({
      status: 'completed',
      users: [carol],
    });
    expect(api.terminated.size).toBe(1);
    expect(published).toEqual([
      '[client-vpn-evictor ENFORCING] guardduty from 123456789012 us-east-1: 1 connections terminated',
    ]);
  });

  it('a refused finding through both routes is one delivery: one refusal, one notice', async () => {
    const { api, handler, published, metricValues } = withDeliveries();
    // The same finding about a role session whose name its caller chose: refused through either route.
    const guardDuty = fixture('sso-session-other-account');
    guardDuty.detail.resource.accessKeyDetails.userName = 'ci-deploy';
    const securityHub = fixture('sso-session-other-account', 'securityhub');
    securityHub.detail.findings[0].Resources[0].Details.AwsIamAccessKey.PrincipalName = 'ci-deploy';
    expect(await handler(guardDuty, attempt('request-guardduty'))).toMatchObject({ status: 'refused' });
    expect(await handler(securityHub, attempt('request-securityhub'))).toMatchObject({ status: 'ignored' });
    expect(published).toHaveLength(1);
    expect(published[0]).toMatch(/refused/i);
    expect(metricValues).toContainEqual({ name: 'DeliveriesIgnored', value: 1 });
    expect(api.calls.filter((c) => c.op === 'terminate')).toEqual([]);
  });

  it("a finding's record outlives an event's: Security Hub's copy published again hours later does not evict again", async () => {
    const hour = 3600;
    const { handler, api } = withDeliveries(
      [conn(ENDPOINT_A, 'alice.smith@corp.example.com'), conn(ENDPOINT_B, 'bob')],
      new DynamoDbDeliveries(table.client, table.db.tableName, hour, 30 * 24 * hour),
    );
    const start = Date.now();
    let offsetSeconds = 0;
    const clock = jest.spyOn(Date, 'now').mockImplementation(() => start + offsetSeconds * 1000);
    try {
      const copy = fixture('sso-session-other-account', 'securityhub');
      expect(await handler(copy, attempt('request-1'))).toMatchObject({ status: 'completed' });
      expect(await handler(evictBob, attempt('request-2'))).toMatchObject({ status: 'completed' });
      // Two hours on, past the event's record: an analyst's note makes Security Hub publish the copy again, a new
      // event with the same finding and last activity; Bob's event is delivered again.
      offsetSeconds = 2 * hour;
      const republished = { ...structuredClone(copy), id: 'a-later-import-after-a-note' };
      const terminated = api.terminated.size;
      expect(await handler(republished, attempt('request-3'))).toMatchObject({ status: 'ignored' });
      expect(await handler(evictBob, attempt('request-4'))).not.toMatchObject({ status: 'ignored' });
      // Past the finding's record too, a copy runs again.
      offsetSeconds = 31 * 24 * hour;
      expect(await handler(republished, attempt('request-5'))).not.toMatchObject({ status: 'ignored' });
      expect(api.terminated.size).toBe(terminated);
    } finally {
      clock.mockRestore();
    }
  });

  it('a second delivery of a session sweep does not sweep again', async () => {
    // Nine hours connected, past the setting's eight: the sweep ends the session by its connection id.
    const old = conn(ENDPOINT_B, 'bob', {
      establishedAt: Date.now() - 9 * 3_600_000,
      counters: { ingressBytes: '1000', egressBytes: '4096', ingressPackets: '30', egressPackets: '41' },
    });
    const sessions = testConfig({ SESSIONS: JSON.stringify({ maxSessionHours: 8 }) });
    const { api, handler, metricValues } = withDeliveries(
      [conn(ENDPOINT_A, 'alice'), old],
      undefined,
      sessions,
    );
    // Scheduler's execution id is the event's id: a second delivery of one sweep carries the same.
    const sweep = {
      ...customEvent('Sweep VPN Sessions', { reason: 'scheduled sweep' }),
      id: 'sweep-execution-1',
    };
    expect(await handler(sweep, attempt('request-1'))).toMatchObject({
      status: 'completed',
      trigger: 'sweep',
    });
    expect(api.terminateCalls()).toEqual([
      expect.objectContaining({ target: { connectionId: old.connectionId } }),
    ]);
    const calls = api.calls.length;
    expect(await handler(sweep, attempt('request-2'))).toMatchObject({ status: 'ignored', trigger: 'sweep' });
    expect(api.calls).toHaveLength(calls);
    expect(metricValues).toContainEqual({ name: 'DeliveriesIgnored', value: 1 });
  });

  it("Lambda's retry of an invocation that failed runs again, and ends what the first could not", async () => {
    const { api, handler } = withDeliveries();
    api.failures.set(
      `${ENDPOINT_B}/user:bob`,
      new ClientVpnApiError('InternalError', 'busy', { transient: true }),
    );
    // The last round there may be: a failure a retry may fix fails the invocation, for Lambda's retry.
    const config = testConfig();
    const decided = decide(parseEvent(evictBob, config.eventSource), config) as EvictionRequest;
    const lastRound = continuationEvent({ ...decided, round: MAX_ROUNDS }, config.eventSource, 0);
    await expect(handler(lastRound, attempt('request-1'))).rejects.toBeInstanceOf(EvictionIncompleteError);
    expect(api.terminated.size).toBe(0);
    api.failures.clear();
    expect(await handler(lastRound, attempt('request-1'))).toMatchObject({ status: 'completed' });
    expect(api.terminated.size).toBe(1);
  });

  it('another delivery while the first still runs is not run; the first finishes alone', async () => {
    const { api, handler, published } = withDeliveries();
    const open = holdTheNextListing(api);
    const first = handler(evictBob, attempt('request-1'));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await handler(evictBob, attempt('request-2'))).toMatchObject({ status: 'ignored' });
    open();
    expect(await first).toMatchObject({ status: 'completed' });
    expect(api.terminateCalls()).toHaveLength(1);
    expect(published).toHaveLength(1);
  });

  it("Lambda's retry of an attempt that died before it could clear its record takes over", async () => {
    const { api, handler } = withDeliveries();
    // The first attempt never gets past its listing, as a process killed there would not.
    holdTheNextListing(api);
    void handler(evictBob, attempt('request-1'));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await handler(evictBob, attempt('request-1'))).toMatchObject({ status: 'completed' });
    expect(api.terminateCalls()).toHaveLength(1);
  });

  it("a round's hand-off that failed: Lambda's retry hands on; another delivery of the round does not run", async () => {
    const { api, handler, handedOff, setLambdaDown } = withDeliveries();
    api.failures.set(
      `${ENDPOINT_B}/user:bob`,
      new ClientVpnApiError('InternalError', 'busy', { transient: true }),
    );
    setLambdaDown(true);
    await expect(handler(endOfDay, attempt('request-1'))).rejects.toThrow('Lambda is down');
    setLambdaDown(false);
    expect(await handler(endOfDay, attempt('request-1'))).toMatchObject({ status: 'continuing' });
    expect(await handler(endOfDay, attempt('request-2'))).toMatchObject({ status: 'ignored' });
    expect(handedOff).toHaveLength(1);
    // The next round is a request of its own: it runs, once.
    api.failures.clear();
    const next = handedOff[0];
    expect(await handler(next, attempt('request-3'))).toMatchObject({ status: 'completed', round: 2 });
    expect(await handler(next, attempt('request-4'))).toMatchObject({ status: 'ignored', round: 2 });
  });

  it('a record that cannot be written does not stop an eviction: it runs, and says a second delivery may too', async () => {
    const nobody = clientFor(`http://127.0.0.1:${await closedPort()}`, CONNECT_HANDLER_BUDGET);
    try {
      const { api, handler, lines } = withDeliveries(
        undefined,
        new DynamoDbDeliveries(nobody, table.db.tableName, 3600),
      );
      expect(await handler(evictBob, attempt('request-1'))).toMatchObject({ status: 'completed' });
      expect(api.terminateCalls()).toHaveLength(1);
      expect(lines.find((l) => l.message === 'delivery not recorded')).toMatchObject({ level: 'warn' });
    } finally {
      nobody.destroy();
    }
  });
});
