import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { AWS_REGIONS } from '../lambda/core/constants';
import { ACCOUNT_ID, DEFAULT_REGION } from './account';
import {
  askHandler,
  CLIENT_CONNECT_LIMIT_MS,
  type ConnectAttempt,
  type ConnectInput,
  handlerRequest,
  parseConnectInput,
  publicIpOf,
  type Verdict,
} from './client-connect';
import { type ActionContext, type ActionResult, ClientVpnActions, settle } from './client-vpn';
import { defaultStatusFor, Ec2Error } from './errors';
import { type FaultConfig, Faults } from './faults';
import { accountOf, BodyTooLarge, readBody, send, signedRegionOf } from './http';
import { handleLambda, LAMBDA_API_PREFIX } from './lambda-api';
import { emulatorAwsEnv } from './lambda-container';
import { type FunctionDefinition, type InvocationRecord, LambdaService } from './lambda-service';
import {
  buildConnection,
  type ClientConnectOptions,
  type Connection,
  type ConnectionStatus,
  type Endpoint,
  type Fleet,
  hexId,
  loadSeed,
  type Seed,
  type SeedConnection,
  SeedError,
} from './model';
import { QueryParams } from './params';
import {
  EC2_DEFAULT_THROTTLE,
  Throttle,
  type ThrottleConfig,
  type ThrottleSnapshot,
  throttleConfig,
} from './throttle';
import {
  type Activity,
  type Counters,
  countersAt,
  DEFAULT_TRAFFIC,
  setActivity,
  type TrafficSettings,
} from './traffic';
import { ec2Time, errorXml, successXml } from './xml';

export interface EmulatorOptions {
  /** 0 (the default) picks any free port. */
  port?: number;
  /**
   * The Region it stands for (default us-east-1): its client-connect handlers and functions must be there, and it
   * refuses EC2 requests signed for another Region, as EC2's endpoint in a Region does.
   */
  region?: string;
  seed?: Seed;
  throttle?: Partial<ThrottleConfig>;
  faults?: FaultConfig;
  /** Actions answered with UnauthorizedOperation, as if the caller's IAM policy did not allow them. */
  deniedActions?: string[];
  terminationDelayMs?: number;
  maxBodyBytes?: number;
  /** How long "a client connects" waits for a client-connect handler; Client VPN's own limit is 30 s. */
  clientConnectLimitMs?: number;
  /** The traffic model's seed and counter refresh (emulator/traffic.ts). */
  traffic?: Partial<TrafficSettings>;
  /** The clock the emulator starts from; `moveClock` moves it. */
  clock?: () => number;
  random?: () => number;
}

export type CallCounts = Record<string, Record<string, number>>;

export interface EmulatorSnapshot {
  endpoints: Array<{
    clientVpnEndpointId: string;
    clientCidrBlock: string;
    clientConnectOptions: ClientConnectOptions;
    /** What ImportClientVpnClientCertificateRevocationList last imported. */
    certificateRevocationList: string | undefined;
    connections: Array<{
      connectionId: string;
      username: string;
      commonName: string;
      clientIp: string;
      status: ConnectionStatus;
      /** EC2's "YYYY-MM-DD HH:MM:SS" (UTC). */
      connectionEstablishedTime: string;
      activity: Activity;
      /** As a listing shows them now. */
      counters: Counters;
      postureComplianceStatuses: string[];
      /** Terminate calls that reached this connection: more than one ending it would be a double termination. */
      terminateCalls: number;
    }>;
    /** The EC2 requests that named this endpoint, per action and outcome (denied and throttled ones too). */
    calls: CallCounts;
  }>;
  /** API requests over HTTP, per action (EC2 actions, and `Invoke` for Lambda) and outcome. */
  calls: CallCounts;
  /** The throttle's settings and what its buckets admitted and refused, with times. */
  throttle: ThrottleSnapshot;
  /** Lambda invocations, in the order they were accepted. */
  invocations: InvocationRecord[];
  /** Every "a client connects", allowed or denied. */
  connectAttempts: ConnectAttempt[];
  /** The emulator's clock, ISO 8601: what EC2's `Timestamp` says. */
  clock: string;
}

export interface ConnectResult {
  allowed: boolean;
  /** A fresh id for every attempt; only an allowed one becomes a connection. */
  connectionId: string;
  reason?: ConnectAttempt['reason'];
  messageToUser?: string;
}

export interface RunningEmulator {
  readonly url: string;
  /** Stops the server and every function process; once stopped, a second call resolves at once. */
  close(): Promise<void>;
  snapshot(): EmulatorSnapshot;
  /**
   * Back to the start-up seed, with call counts, faults, buckets, invocations and connect attempts cleared.
   * Registered functions stay registered.
   */
  reset(): void;
  seed(seed: Seed): void;
  /** Seeds one connection as it is, without asking any client-connect handler. */
  addConnection(clientVpnEndpointId: string, connection: SeedConnection): string;
  /** A client connects: the endpoint's client-connect handler, if enabled, decides whether it is admitted. */
  connect(input: ConnectInput): Promise<ConnectResult>;
  /** Registers a Lambda function (its first container starts now); resolves to its ARN. */
  registerFunction(definition: FunctionDefinition): Promise<string>;
  /** The JSON lines a registered function printed since the last call, as its log group would hold them. */
  takeFunctionLogs(name: string): Array<Record<string, unknown>>;
  /** Resolves once every queued or running Lambda invocation has finished. */
  idle(): Promise<void>;
  setFaults(faults: FaultConfig): void;
  setThrottle(throttle: Partial<ThrottleConfig>): void;
  setDeniedActions(actions: string[]): void;
  /**
   * Moves the emulator's clock by `ms` (back when negative): connection ages, EC2's `Timestamp`, the counters of
   * busy connections and the throttling buckets all follow it. Returns the new time. Refused, the clock unmoved,
   * for a move that is not a finite number or would take the clock more than 366 days from the time it started from.
   */
  moveClock(ms: number): number;
  /** Makes a connection's counters stand still (`idle`) or move (`busy`) from now on. */
  setActivity(connectionId: string, activity: Activity): void;
}

const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
/**
 * How far the clock may be moved from the time it started from, either way: far beyond any Client VPN session (24
 * hours at most) or sweep state (25 hours), and always a time EC2's date formats, the SDK and the AWS CLI can carry.
 */
const MAX_CLOCK_OFFSET_MS = 366 * 86_400_000;

type Handler = (params: QueryParams, ctx: ActionContext) => ActionResult;

export async function startEmulator(options: EmulatorOptions = {}): Promise<RunningEmulator> {
  const startClock = options.clock ?? Date.now;
  let clockOffsetMs = 0;
  const clock = () => startClock() + clockOffsetMs;
  const traffic: TrafficSettings = trafficSettings(options.traffic);
  const region = options.region ?? DEFAULT_REGION;
  if (!AWS_REGIONS.includes(region))
    throw new Error(`region: "${region}" is not a Region of the aws partition`);
  const initialSeed: Seed = options.seed ?? { endpoints: [] };
  let fleet: Fleet = loadSeed(initialSeed, clock(), traffic, region);
  let calls: CallCounts = {};
  let callsByEndpoint = new Map<string, CallCounts>();
  let connectAttempts: ConnectAttempt[] = [];
  let deniedActions = new Set(options.deniedActions ?? []);
  const initialThrottle: ThrottleConfig = options.throttle
    ? throttleConfig(options.throttle, { ...EC2_DEFAULT_THROTTLE, enabled: true })
    : EC2_DEFAULT_THROTTLE;
  const throttle = new Throttle(initialThrottle);
  const faults = new Faults(options.faults ?? {}, options.random);
  const actions = new ClientVpnActions(() => fleet, region);
  const handlers: Record<string, Handler> = {
    DescribeClientVpnEndpoints: (p, c) => actions.describeClientVpnEndpoints(p, c),
    DescribeClientVpnConnections: (p, c) => actions.describeClientVpnConnections(p, c),
    TerminateClientVpnConnections: (p, c) => actions.terminateClientVpnConnections(p, c),
    ModifyClientVpnEndpoint: (p, c) => actions.modifyClientVpnEndpoint(p, c),
    ImportClientVpnClientCertificateRevocationList: (p, c) =>
      actions.importClientVpnClientCertificateRevocationList(p, c),
  };
  let url = '';
  // Functions reach this emulator for EC2 and Lambda, as a function on AWS reaches the real services.
  const lambda = new LambdaService(
    () => ({ PATH: process.env.PATH, ...emulatorAwsEnv(url, undefined, region) }),
    clock,
    region,
  );

  const countIn = (counts: CallCounts, action: string, outcome: string) => {
    const perAction = counts[action] ?? {};
    perAction[outcome] = (perAction[outcome] ?? 0) + 1;
    counts[action] = perAction;
  };
  /** Counts a request, and against the endpoint it named, if any. */
  const count = (action: string, outcome: string, endpointId?: string) => {
    countIn(calls, action, outcome);
    if (endpointId === undefined) return;
    const counts = callsByEndpoint.get(endpointId) ?? {};
    countIn(counts, action, outcome);
    callsByEndpoint.set(endpointId, counts);
  };

  const endpointById = (clientVpnEndpointId: string): Endpoint => {
    const endpoint = fleet.endpoints.find((e) => e.clientVpnEndpointId === clientVpnEndpointId);
    if (!endpoint) throw new SeedError(`no endpoint ${clientVpnEndpointId}`);
    return endpoint;
  };

  /** A connection with a fresh id (or the one asked for), not yet on its endpoint. */
  const newConnection = (endpoint: Endpoint, connection: SeedConnection): Connection => {
    const taken = new Set(fleet.endpoints.flatMap((e) => e.connections.map((c) => c.connectionId)));
    let seq = fleet.nextSeq;
    while (connection.connectionId === undefined && taken.has(hexId('cvpn-connection-', seq))) seq += 1;
    const built = buildConnection(
      { connectionEstablishedTime: new Date(clock()).toISOString(), ...connection },
      endpoint,
      seq,
      endpoint.connections.length,
      clock(),
      'connection',
      traffic,
    );
    if (taken.has(built.connectionId)) throw new SeedError(`duplicate ${built.connectionId}`);
    fleet.nextSeq = seq + 1;
    return built;
  };

  async function connect(input: ConnectInput): Promise<ConnectResult> {
    const { clientVpnEndpointId } = parseConnectInput(input);
    const endpoint = endpointById(clientVpnEndpointId);
    const { username, commonName, clientIp } = input;
    const candidate = newConnection(endpoint, { username, commonName, clientIp });
    const handler = endpoint.clientConnectOptions.enabled
      ? endpoint.clientConnectOptions.lambdaFunctionArn
      : undefined;
    let verdict: Verdict = { allowed: true, postureComplianceStatuses: [] };
    if (handler) {
      const request = handlerRequest(input, candidate);
      const bytes = Buffer.byteLength(JSON.stringify(request));
      verdict = await askHandler(
        () => lambda.invoke(handler, request, bytes),
        options.clientConnectLimitMs ?? CLIENT_CONNECT_LIMIT_MS,
      );
    }
    if (verdict.allowed) {
      // The fleet may have been reseeded while the handler ran; a connection needs its endpoint still there.
      endpointById(clientVpnEndpointId).connections.push({
        ...candidate,
        postureComplianceStatuses: verdict.postureComplianceStatuses,
      });
    }
    connectAttempts.push({
      at: new Date(clock()).toISOString(),
      clientVpnEndpointId,
      connectionId: candidate.connectionId,
      username: candidate.username,
      commonName: candidate.commonName,
      publicIp: publicIpOf(input),
      handler,
      ...verdict,
    });
    const { allowed, reason, messageToUser } = verdict;
    return { allowed, connectionId: candidate.connectionId, reason, messageToUser };
  }

  async function handleEc2(req: IncomingMessage, res: ServerResponse, target: URL) {
    const requestId = randomUUID();
    let action = 'Unknown';
    let endpointId: string | undefined;
    try {
      const body =
        req.method === 'POST' ? await readBody(req, options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES) : '';
      if (req.method !== 'POST' && req.method !== 'GET') {
        throw new Ec2Error(
          'InvalidHttpRequest',
          `HTTP method ${req.method} is not supported; use POST or GET`,
          405,
        );
      }
      const signedFor = signedRegionOf(req);
      if (signedFor !== undefined && signedFor !== region) {
        throw new Ec2Error(
          'SignatureDoesNotMatch',
          `Credential should be scoped to a valid Region, not '${signedFor.slice(0, 40)}'.`,
          403,
        );
      }
      const params = new QueryParams(new URLSearchParams(req.method === 'POST' ? body : target.search));
      action = params.string('Action') ?? 'Unknown';
      endpointId = params.string('ClientVpnEndpointId');
      if (action === 'Unknown')
        throw new Ec2Error('MissingAction', 'The request must contain the parameter Action');
      const handler = Object.hasOwn(handlers, action) ? handlers[action] : undefined;
      if (!handler) {
        throw new Ec2Error(
          'InvalidAction',
          `The action ${action.slice(0, 100)} is not valid for this web service.`,
        );
      }
      const version = params.string('Version');
      if (version !== undefined && version !== '2016-11-15') {
        throw new Ec2Error(
          'InvalidParameterValue',
          `Version ${version.slice(0, 40)} is not supported; use 2016-11-15`,
        );
      }
      const fault = faults.decide(action, endpointId);
      if (fault.latencyMs > 0) await sleep(fault.latencyMs);
      if (fault.kind === 'drop') {
        count(action, 'Dropped', endpointId);
        req.socket.destroy();
        return;
      }
      if (fault.kind === 'error') {
        throw new Ec2Error(
          fault.code,
          `Injected fault for ${action}`,
          fault.status ?? defaultStatusFor(fault.code),
        );
      }
      if (!throttle.tryTake(accountOf(req), action, clock())) {
        throw new Ec2Error('RequestLimitExceeded', 'Request limit exceeded.', 503);
      }
      const resource = endpointId ?? '*';
      if (deniedActions.has(action) || deniedActions.has(`${action}:${resource}`)) {
        throw new Ec2Error(
          'UnauthorizedOperation',
          `You are not authorized to perform this operation. User: arn:aws:sts::${ACCOUNT_ID}:assumed-role/emulator/caller is not authorized to perform: ec2:${action} on resource: arn:aws:ec2:${region}:${ACCOUNT_ID}:client-vpn-endpoint/${resource} because no identity-based policy allows the ec2:${action} action`,
          403,
        );
      }
      const result = handler(params, {
        now: clock(),
        terminationDelayMs: options.terminationDelayMs ?? 0,
        traffic,
      });
      if (fault.loseAnswer) {
        count(action, 'AnswerLost', endpointId);
        req.socket.destroy();
        return;
      }
      count(action, 'Success', endpointId);
      send(res, 200, 'text/xml;charset=UTF-8', successXml(action, requestId, result));
    } catch (error) {
      const ec2 =
        error instanceof Ec2Error
          ? error
          : error instanceof BodyTooLarge
            ? new Ec2Error(
                'RequestEntityTooLarge',
                'The request body is larger than the emulator accepts',
                413,
              )
            : new Ec2Error('InternalError', 'An internal error has occurred', 500);
      count(action, ec2.code, endpointId);
      send(res, ec2.httpStatus, 'text/xml;charset=UTF-8', errorXml(ec2.code, ec2.message, requestId));
    }
  }

  /** What tests call in-process and the admin API calls over HTTP. */
  const controls: Omit<RunningEmulator, 'url' | 'close'> = {
    snapshot: () => ({
      endpoints: fleet.endpoints.map((e) => ({
        clientVpnEndpointId: e.clientVpnEndpointId,
        clientCidrBlock: e.clientCidrBlock,
        clientConnectOptions: { ...e.clientConnectOptions },
        certificateRevocationList: e.certificateRevocationList,
        connections: e.connections.map((c) => {
          settle(c, clock());
          return {
            connectionId: c.connectionId,
            username: c.username,
            commonName: c.commonName,
            clientIp: c.clientIp,
            status: c.status,
            connectionEstablishedTime: ec2Time(c.establishedAt),
            activity: c.traffic.activity,
            counters: countersAt(c.traffic, clock(), traffic),
            postureComplianceStatuses: [...c.postureComplianceStatuses],
            terminateCalls: c.terminateCalls,
          };
        }),
        calls: structuredClone(callsByEndpoint.get(e.clientVpnEndpointId) ?? {}),
      })),
      calls: structuredClone(calls),
      throttle: throttle.snapshot(),
      invocations: lambda.invocations,
      connectAttempts: structuredClone(connectAttempts),
      clock: new Date(clock()).toISOString(),
    }),
    reset: () => {
      clockOffsetMs = 0;
      fleet = loadSeed(initialSeed, clock(), traffic, region);
      calls = {};
      callsByEndpoint = new Map();
      connectAttempts = [];
      lambda.clearRecords();
      faults.configure({});
      throttle.configure(initialThrottle);
      deniedActions = new Set(options.deniedActions ?? []);
    },
    seed: (seed) => {
      fleet = loadSeed(seed, clock(), traffic, region);
      calls = {};
      callsByEndpoint = new Map();
      connectAttempts = [];
    },
    addConnection: (clientVpnEndpointId, connection) => {
      const endpoint = endpointById(clientVpnEndpointId);
      const added = newConnection(endpoint, connection);
      endpoint.connections.push(added);
      return added.connectionId;
    },
    connect,
    registerFunction: (definition) => lambda.register(definition),
    takeFunctionLogs: (name) => lambda.takeLogs(name),
    idle: () => lambda.idle(),
    setFaults: (config) => faults.configure(config),
    setThrottle: (config) =>
      throttle.configure(throttleConfig(config, { ...throttle.settings, enabled: true })),
    setDeniedActions: (list) => {
      deniedActions = new Set(list);
    },
    moveClock: (ms) => {
      // Checked before anything moves: a refused move leaves the clock where it was.
      if (!Number.isFinite(ms)) throw new Error('the clock moves by a finite number of milliseconds');
      const offsetMs = clockOffsetMs + ms;
      if (Math.abs(offsetMs) > MAX_CLOCK_OFFSET_MS) {
        throw new Error(
          `the clock stays within ${MAX_CLOCK_OFFSET_MS / 86_400_000} days of the time it started from; it is ${clockOffsetMs / 60_000} minutes from it now`,
        );
      }
      clockOffsetMs = offsetMs;
      return clock();
    },
    setActivity: (connectionId, activity) => {
      if (activity !== 'busy' && activity !== 'idle') throw new Error('activity is "busy" or "idle"');
      const connection = fleet.endpoints
        .flatMap((e) => e.connections)
        .find((c) => c.connectionId === connectionId);
      if (!connection) throw new Error(`no connection ${connectionId}`);
      setActivity(connection.traffic, activity, clock(), traffic);
    },
  };

  async function handleAdmin(req: IncomingMessage, res: ServerResponse, path: string) {
    const json = (status: number, value: unknown) =>
      send(res, status, 'application/json', JSON.stringify(value));
    try {
      const raw =
        req.method === 'GET' ? '' : await readBody(req, options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES);
      const body: unknown = raw ? JSON.parse(raw) : {};
      const route = `${req.method} ${path}`;
      const input = body as Record<string, unknown>;
      switch (route) {
        case 'GET /_emulator/state':
          return json(200, { ...controls.snapshot(), faults: faults.settings });
        case 'POST /_emulator/reset':
          controls.reset();
          return json(200, { ok: true });
        case 'POST /_emulator/seed':
          controls.seed(body as Seed);
          return json(200, { ok: true });
        case 'POST /_emulator/connections': {
          const { clientVpnEndpointId, ...connection } = input;
          const id = controls.addConnection(String(clientVpnEndpointId), connection as SeedConnection);
          return json(201, { connectionId: id });
        }
        case 'POST /_emulator/connect':
          return json(200, await controls.connect(body as ConnectInput));
        case 'PUT /_emulator/faults':
          controls.setFaults(body as FaultConfig);
          return json(200, { ok: true });
        case 'PUT /_emulator/throttle':
          controls.setThrottle(body as Partial<ThrottleConfig>);
          return json(200, { ok: true });
        case 'POST /_emulator/clock': {
          const minutes = input.advanceMinutes;
          if (typeof minutes !== 'number')
            throw new Error('give { "advanceMinutes": <minutes, negative to go back> }');
          return json(200, { now: new Date(controls.moveClock(minutes * 60_000)).toISOString() });
        }
        case 'PUT /_emulator/traffic':
          controls.setActivity(String(input.connectionId), input.activity as Activity);
          return json(200, { ok: true });
        case 'PUT /_emulator/permissions':
          controls.setDeniedActions(
            Array.isArray(input.deniedActions) ? input.deniedActions.map(String) : [],
          );
          return json(200, { ok: true });
        default:
          return json(404, { error: `no admin route ${route}` });
      }
    } catch (error) {
      return json(400, { error: error instanceof Error ? error.message : String(error) });
    }
  }

  const server = createServer((req, res) => {
    const target = new URL(req.url ?? '/', 'http://emulator');
    const work = target.pathname.startsWith('/_emulator/')
      ? handleAdmin(req, res, target.pathname)
      : target.pathname.startsWith(LAMBDA_API_PREFIX)
        ? handleLambda(req, res, target.pathname, lambda, count)
        : handleEc2(req, res, target);
    work.catch(() => req.socket.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  url = `http://127.0.0.1:${port}`;
  return {
    ...controls,
    url,
    close: () =>
      new Promise<void>((resolve, reject) => {
        // Closed already: a harness that closes whatever it last started may close it twice.
        if (!server.listening) return resolve();
        lambda.close();
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

function trafficSettings(given: Partial<TrafficSettings> = {}): TrafficSettings {
  const settings = { ...DEFAULT_TRAFFIC, ...given };
  if (!Number.isSafeInteger(settings.seed)) throw new Error('traffic.seed is a whole number');
  if (!(settings.refreshSeconds > 0 && Number.isFinite(settings.refreshSeconds))) {
    throw new Error('traffic.refreshSeconds is a number > 0');
  }
  return settings;
}
