import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type RunningDynamoDb, startDynamoDb } from '../../emulator/dynamodb';
import { emulatorAwsEnv, type LambdaContainer, startLambdaContainer } from '../../emulator/lambda-container';
import type { Seed, SeedConnection } from '../../emulator/model';
import { type RunningEmulator, startEmulator } from '../../emulator/server';
import { DynamoDbLeaseStore } from '../../lambda/adapters/dynamodb-lease';
import { evictorAsset, INTEGRATION_CONTEXT, INTEGRATION_ENDPOINTS } from '../support/cdk-out';
import { clientFor } from '../support/dynamodb';

/*
 * The evictor bundle that `cdk synth` wrote, in its own process with the function's environment from the template
 * (the integration deployment's sessions: idle 15 minutes, at most 8 hours, oncall exempt, breakglass protected),
 * sweeping a fleet on the emulator, whose clock the test moves while the function's runs on. Ages and stillness are
 * read on EC2's clock, the emulator's. The table is dynalite.
 */
const [A, B] = INTEGRATION_ENDPOINTS as [string, string];
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const START = Date.now();

let serial = 0;
const id = () => `cvpn-connection-${(++serial).toString(16).padStart(17, '0')}`;
const ago = (ms: number) => new Date(START - ms).toISOString();
/** A connection made `hours` ago, its counters moving (busy) or not (idle). */
const seeded = (username: string, hours: number, activity: 'busy' | 'idle', extra: SeedConnection = {}) => ({
  connectionId: id(),
  username,
  commonName: username || 'kiosk-3.corp.example.com',
  connectionEstablishedTime: ago(hours * HOUR),
  activity,
  ...extra,
});

const fleet = {
  alice: seeded('alice@corp.example.com', 1, 'busy'),
  bob: seeded('bob@corp.example.com', 1, 'idle'),
  carol: seeded('carol@corp.example.com', 8 - 1 / 6, 'busy'), // 7 h 50 min: over age ten minutes in
  glass: seeded('breakglass', 10, 'idle'),
  oncall: seeded('OnCall@corp.example.com', 2, 'idle'),
  erin: seeded('erin@corp.example.com', 9, 'busy'),
  frank: seeded('frank@corp.example.com', 2, 'idle'),
  kiosk: seeded('', 3, 'idle'),
  // One user, two sessions: the phone goes idle, the laptop stays busy.
  davePhone: seeded('dave@corp.example.com', 1, 'idle'),
  daveLaptop: seeded('dave@corp.example.com', 1, 'busy'),
};
const seed: Seed = {
  endpoints: [
    {
      clientVpnEndpointId: A,
      connections: [
        fleet.alice,
        fleet.bob,
        fleet.carol,
        fleet.glass,
        fleet.oncall,
        fleet.davePhone,
        fleet.daveLaptop,
      ],
    },
    {
      clientVpnEndpointId: B,
      authenticationType: 'certificate-authentication',
      connections: [fleet.erin, fleet.frank, fleet.kiosk],
    },
  ],
};

const asset = evictorAsset();
let emulator: RunningEmulator;
let table: RunningDynamoDb;
let container: LambdaContainer;
let recorder: Server;
/** The parameters of every TerminateClientVpnConnections request the function sent, as sent. */
const terminateRequests: Array<Record<string, string>> = [];

/** Passes the function's EC2 requests on to the emulator, keeping the parameters of each Terminate. */
async function startRecorder(target: string): Promise<string> {
  recorder = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const params = Object.fromEntries(new URLSearchParams(body.toString()));
      if (params.Action === 'TerminateClientVpnConnections') terminateRequests.push(params);
      const onward = request(
        `${target}${req.url}`,
        { method: req.method, headers: req.headers },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      onward.end(body);
    });
  });
  await new Promise<void>((resolve) => recorder.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(recorder.address() as AddressInfo).port}`;
}

beforeAll(async () => {
  emulator = await startEmulator({ seed });
  table = await startDynamoDb();
  container = await startLambdaContainer(asset.bundle, {
    PATH: process.env.PATH,
    ...asset.environment,
    ...emulatorAwsEnv(await startRecorder(emulator.url), table.url),
    QUARANTINE_TABLE: table.tableName,
  });
});
afterAll(async () => {
  container.stop();
  await new Promise((resolve) => recorder.close(resolve));
  await emulator.close();
  await table.close();
});

let sweeps = 0;
async function sweep() {
  const event = {
    version: '0',
    id: `scheduler-execution-${++sweeps}`,
    source: 'client-vpn-evictor',
    'detail-type': 'Sweep VPN Sessions',
    time: new Date().toISOString(),
    detail: { reason: 'scheduled session sweep' },
  };
  const before = emulator.snapshot().calls;
  const { result, error } = await container.invoke(event, `req-sweep-${sweeps}`);
  const logs = container.takeLogs() as Array<Record<string, any>>;
  const after = emulator.snapshot().calls;
  const calls = (action: string) =>
    Object.values(after[action] ?? {}).reduce((n, c) => n + c, 0) -
    Object.values(before[action] ?? {}).reduce((n, c) => n + c, 0);
  return {
    result: result as any,
    error,
    audit: logs.filter((l) => l.message === 'connection'),
    // The invocation's metrics, beside the cold start's line on a first invocation.
    emf: Object.assign({}, ...logs.filter((l) => l._aws && !('ColdStart' in l))),
    logs,
    describes: calls('DescribeClientVpnConnections'),
    terminates: calls('TerminateClientVpnConnections'),
  };
}

const ended = () =>
  emulator
    .snapshot()
    .endpoints.flatMap((e) => e.connections)
    .filter((c) => c.status !== 'active')
    .map((c) => c.connectionId)
    .sort();
const ids = (...connections: Array<{ connectionId: string }>) =>
  connections.map((c) => c.connectionId).sort();
const auditOf = (audit: Array<Record<string, any>>) =>
  audit.map((l) => [l.connectionId, l.status, l.reason, l.sessionEnd]).sort();

describe('Sweep VPN Sessions: the synthesized bundle on the emulator, sweep after sweep', () => {
  it('is deployed with the sessions setting', () => {
    expect(JSON.parse(asset.environment.SESSIONS ?? '{}')).toEqual({
      ...JSON.parse(INTEGRATION_CONTEXT.sessions),
      sweepMinutes: 5,
    });
  });

  it('the first sweep ends the session over age, keeps the protected one, and counts every other from now', async () => {
    const first = await sweep();
    expect(first.error).toBeUndefined();
    expect(first.result).toMatchObject({
      status: 'completed',
      trigger: 'sweep',
      mode: 'ENFORCING',
      quarantine: [],
    });
    expect(ended()).toEqual(ids(fleet.erin));
    expect(auditOf(first.audit)).toEqual(
      [
        [fleet.erin.connectionId, 'terminated', 'over-age', undefined],
        [fleet.glass.connectionId, 'skipped', 'protected', 'over-age'],
      ].sort(),
    );
    expect(first.emf).toMatchObject({
      SessionsEndedOverAge: 1,
      SessionsEndedIdle: 0,
      ConnectionsTerminated: 1,
    });
    expect(first.emf.UsersEvicted).toBeUndefined();
    expect(first.describes).toBe(2);
    expect(first.terminates).toBe(1);
    // One item per endpoint, written in one call each.
    expect(first.result.sweep.table).toMatchObject({ reads: 2, writes: 2 });
  });

  it('ten minutes on, carol has lasted eight hours; nobody has been still for fifteen minutes yet', async () => {
    emulator.moveClock(10 * MINUTE);
    const second = await sweep();
    expect(ended()).toEqual(ids(fleet.erin, fleet.carol));
    expect(auditOf(second.audit).filter((l) => l[1] === 'terminated')).toEqual([
      [fleet.carol.connectionId, 'terminated', 'over-age', undefined],
    ]);
  });

  it('sixteen minutes on, the idle sessions end, the exempt one stays, and the busy one too', async () => {
    emulator.moveClock(6 * MINUTE);
    const third = await sweep();
    expect(ended()).toEqual(
      ids(fleet.erin, fleet.carol, fleet.bob, fleet.frank, fleet.kiosk, fleet.davePhone),
    );
    expect(auditOf(third.audit)).toEqual(
      [
        [fleet.bob.connectionId, 'terminated', 'idle', undefined],
        [fleet.davePhone.connectionId, 'terminated', 'idle', undefined],
        [fleet.frank.connectionId, 'terminated', 'idle', undefined],
        [fleet.kiosk.connectionId, 'terminated', 'idle', undefined],
        [fleet.glass.connectionId, 'skipped', 'protected', 'over-age'],
        [fleet.oncall.connectionId, 'skipped', 'exempt', 'idle'],
      ].sort(),
    );
    expect(third.emf).toMatchObject({ SessionsEndedIdle: 4, SessionsEndedOverAge: 0 });
    expect(third.result.sweep).toMatchObject({
      ended: { idle: 4, overAge: 0 },
      kept: { protected: 1, exempt: 1 },
    });
    expect(third.terminates).toBe(4);
  });

  it('alice goes quiet: five minutes later she is not idle yet, and a sweep that ends nobody makes no Terminate call', async () => {
    emulator.setActivity(fleet.alice.connectionId, 'idle');
    emulator.moveClock(5 * MINUTE);
    const fourth = await sweep();
    expect(fourth.terminates).toBe(0);
    expect(fourth.audit.filter((l) => l.status !== 'skipped')).toEqual([]);
    expect(fourth.emf).toMatchObject({ SessionsEndedIdle: 0, SessionsEndedOverAge: 0 });
  });

  it('a clock that goes backwards ends nobody, and every session counts from that sweep', async () => {
    emulator.moveClock(-10 * MINUTE);
    const back = await sweep();
    expect(back.terminates).toBe(0);
    expect(back.result.sweep.clockWentBack).toEqual([A, B]);
    expect(back.result.notes.join('\n')).toMatch(/before its last sweep at .*: nobody is ended there/);
    // Alice has been quiet since before the last sweep; counted from the step back, she is idle 15 minutes later.
    emulator.moveClock(14 * MINUTE);
    expect((await sweep()).terminates).toBe(0);
    emulator.moveClock(MINUTE);
    const next = await sweep();
    expect(auditOf(next.audit).filter((l) => l[1] === 'terminated')).toEqual([
      [fleet.alice.connectionId, 'terminated', 'idle', undefined],
    ]);
  });

  it('a sweep while a Disconnect All holds the lease is skipped: nothing listed or ended, a log line and a metric', async () => {
    const dynamodb = clientFor(table.url);
    const lease = new DynamoDbLeaseStore(dynamodb, table.tableName);
    const run = { id: 'evt-end-of-day', round: 1, token: 'disconnect-all-run' };
    // The Disconnect All's lease for the function's Region, named by that Region.
    const HOME_LEASE = 'mass-disconnect#us-east-1';
    try {
      expect(await lease.acquire(HOME_LEASE, run, Date.now() + 10 * MINUTE, Date.now())).toEqual({
        acquired: true,
      });
      const skipped = await sweep();
      expect(skipped.result).toMatchObject({ status: 'ignored', sweep: { skippedFor: 'evt-end-of-day' } });
      expect(skipped.describes).toBe(0);
      expect(skipped.terminates).toBe(0);
      expect(skipped.logs).toContainEqual(
        expect.objectContaining({
          message: 'sweep skipped: another mass disconnect holds the lease',
          holder: 'evt-end-of-day',
        }),
      );
      expect(skipped.emf).toMatchObject({ SweepsSkipped: 1 });
    } finally {
      await lease.release(HOME_LEASE, run.token);
      dynamodb.destroy();
    }
    expect((await sweep()).result.status).toBe('completed');
  });

  it('every session ended was ended by one Terminate call, by its connection id', () => {
    const calls = emulator
      .snapshot()
      .endpoints.flatMap((e) => e.connections)
      .filter((c) => c.terminateCalls > 0);
    expect(calls.map((c) => c.terminateCalls)).toEqual(calls.map(() => 1));
    const endedIds = ids(
      fleet.erin,
      fleet.carol,
      fleet.bob,
      fleet.frank,
      fleet.kiosk,
      fleet.davePhone,
      fleet.alice,
    );
    expect(ended()).toEqual(endedIds);
    // As the function sent them: one request per session, naming its ConnectionId and never a Username.
    expect(terminateRequests.map((p) => p.ConnectionId).sort()).toEqual(endedIds);
    expect(terminateRequests.filter((p) => 'Username' in p)).toEqual([]);
    // Dave's idle phone ended; his busy laptop, the same Username, is still connected.
    const left = emulator
      .snapshot()
      .endpoints.flatMap((e) => e.connections)
      .filter((c) => c.status === 'active');
    expect(left.map((c) => c.connectionId).sort()).toEqual(ids(fleet.glass, fleet.oncall, fleet.daveLaptop));
    expect(left.find((c) => c.connectionId === fleet.daveLaptop.connectionId)?.terminateCalls).toBe(0);
  });
});
