import { setTimeout as sleep } from 'node:timers/promises';
import {
  type ClientVpnConnection,
  DescribeClientVpnConnectionsCommand,
  EC2Client,
  type EC2ClientConfig,
  TerminateClientVpnConnectionsCommand,
} from '@aws-sdk/client-ec2';
import {
  type ClientVpnApi,
  ClientVpnApiError,
  type ConnectionListing,
  type TerminateOptions,
  type TerminateResponse,
  type TerminateTarget,
  type VpnConnection,
} from '../core/client-vpn-api';
import { AdaptivePacer, type BucketSpec, EC2_MUTATING_BUCKET, shareOf } from '../core/pacer';
import { SETTINGS } from '../core/settings';

/**
 * The SDK makes one attempt per call; this adapter retries itself. The SDK's retry strategy keeps a quota per
 * client that throttling uses up and, in a warm Lambda container, does not give back, so under sustained
 * throttling calls ended up failing for good. Timeouts are explicit, so that a call whose answer never comes
 * fails, is retried, and counts as possibly applied.
 */
export function createEc2Client(overrides: EC2ClientConfig = {}): EC2Client {
  return new EC2Client({
    maxAttempts: 1,
    requestHandler: { connectionTimeout: 3_000, requestTimeout: 10_000, throwOnRequestTimeout: true },
    ...overrides,
  });
}

/** Attempts for a call that fails transiently (a 5xx, a lost connection); throttled attempts do not count. */
const MAX_ATTEMPTS = 5;
/**
 * A listing is tried twice, not MAX_ATTEMPTS times: a round lists every endpoint, in every Region, before it ends
 * anyone, so the retries of a Region that does not answer would hold back all the others (five attempts at the
 * 10 s request timeout, about a minute). Two keep a single 5xx from failing a listing; the next round, a second
 * later, tries a failed one again.
 */
const LIST_ATTEMPTS = 2;
/** A call still throttled after this many tries fails as transient, and the next round tries it again. */
const MAX_THROTTLED = 30;
/** The first wait before a call is tried again; it doubles with each try. */
const BACKOFF_MS = 200;

const THROTTLED = new Set(['RequestLimitExceeded', 'Throttling', 'ThrottlingException']);
const SERVER_SIDE = new Set(['InternalError', 'InternalFailure', 'ServiceUnavailable', 'Unavailable']);
/** The request may have reached EC2, and its answer never came back. */
const ANSWER_LOST = /ECONNRESET|EPIPE|ETIMEDOUT|socket hang up|TimeoutError|RequestTimeout/;
/** The request never left: nothing can have happened. */
const NOT_SENT = /ECONNREFUSED|ENOTFOUND|EAI_AGAIN/;

/** An SDK error as the core sees it: the code, whether a retry may help, whether the call may have applied. */
export function toApiError(error: unknown): ClientVpnApiError {
  if (error instanceof ClientVpnApiError) return error;
  const e = error as {
    name?: string;
    code?: string;
    Code?: string;
    message?: string;
    $metadata?: { httpStatusCode?: number };
  };
  const code = e.Code ?? (e.name && e.name !== 'Error' ? e.name : e.code) ?? 'Error';
  const described = `${e.code ?? ''} ${e.name ?? ''} ${e.message ?? ''}`;
  const serverSide = SERVER_SIDE.has(code) || (e.$metadata?.httpStatusCode ?? 0) >= 500;
  const lost = ANSWER_LOST.test(described);
  return new ClientVpnApiError(code, e.message ?? String(error), {
    transient: THROTTLED.has(code) || serverSide || lost || NOT_SENT.test(described),
    mayHaveApplied: !THROTTLED.has(code) && (serverSide || lost),
    cause: error,
  });
}

const DESCRIBE_PAGE_SIZE = 1000;

/** ClientVpnApi over the EC2 API: the only place the evictor's core meets EC2. */
export class Ec2ClientVpnApi implements ClientVpnApi {
  private readonly pacer: AdaptivePacer;
  private throttles = 0;

  /**
   * Terminate calls are paced to the evictor's share of EC2's mutating bucket (`bucket`, by default 0.6 of
   * EC2's 50 burst and 5/s), so that a mass disconnect leaves room for the account's own automation.
   */
  constructor(
    private readonly ec2: EC2Client,
    bucket: BucketSpec = shareOf(EC2_MUTATING_BUCKET, SETTINGS.ec2BudgetShare.default),
    /** The first wait before a try again (tests of long outages shorten it). */
    private readonly backoffMs = BACKOFF_MS,
  ) {
    this.pacer = new AdaptivePacer(bucket, Date.now());
  }

  /**
   * Runs one call with retries: throttling slows the pacer (paced calls) or backs off, and is tried again; a
   * transient failure is tried again up to `maxAttempts` in all; anything else fails at once. `afterLostAnswer` says an
   * earlier attempt's answer was lost, so that attempt may have taken effect.
   */
  private async call<T>(
    paced: boolean,
    send: () => Promise<T>,
    giveUp: () => boolean = () => false,
    maxAttempts = MAX_ATTEMPTS,
  ): Promise<{ out: T; afterLostAnswer: boolean }> {
    let attempts = 0;
    let throttled = 0;
    let afterLostAnswer = false;
    for (;;) {
      if (paced) {
        const wait = this.pacer.reserve(Date.now());
        if (wait > 0) await sleep(wait);
      }
      try {
        const out = await send();
        if (paced) this.pacer.succeeded();
        return { out, afterLostAnswer };
      } catch (error) {
        const apiError = toApiError(error);
        const isThrottle = THROTTLED.has(apiError.code);
        if (isThrottle) this.throttles++;
        if (isThrottle && ++throttled < MAX_THROTTLED && !giveUp()) {
          if (paced) this.pacer.throttled(Date.now());
          else await sleep(this.backoffMs * 2 ** Math.min(throttled, 5));
          continue;
        }
        afterLostAnswer ||= apiError.mayHaveApplied;
        if (!apiError.transient || ++attempts >= maxAttempts || giveUp()) {
          throw new ClientVpnApiError(apiError.code, apiError.message, {
            transient: apiError.transient,
            mayHaveApplied: afterLostAnswer,
            cause: apiError.cause,
          });
        }
        await sleep(this.backoffMs * 2 ** attempts * (0.5 + Math.random()));
      }
    }
  }

  async listActiveConnections(endpointId: string, usernames?: readonly string[]): Promise<ConnectionListing> {
    const listing: ConnectionListing = { connections: [], calls: 0 };
    if (usernames?.length === 0) return listing;
    let nextToken: string | undefined;
    do {
      const { out: page } = await this.call(
        false,
        () =>
          this.ec2.send(
            new DescribeClientVpnConnectionsCommand({
              ClientVpnEndpointId: endpointId,
              MaxResults: DESCRIBE_PAGE_SIZE,
              NextToken: nextToken,
              Filters: usernames ? [{ Name: 'username', Values: [...usernames] }] : undefined,
            }),
          ),
        undefined,
        LIST_ATTEMPTS,
      );
      listing.calls++;
      // EC2's "current date and time" on every connection: the clock the sweep reads ages and stillness on.
      for (const c of page.Connections ?? []) listing.listedAt ??= parseEc2Time(c.Timestamp);
      // Describe also returns connections terminated in the last hour; only active ones matter.
      for (const c of page.Connections ?? [])
        if (c.Status?.Code === 'active') listing.connections.push(toConnection(endpointId, c));
      nextToken = page.NextToken;
    } while (nextToken);
    return listing;
  }

  spendBurst(): void {
    this.pacer.spendBurst(Date.now());
  }

  takeThrottles(): number {
    const taken = this.throttles;
    this.throttles = 0;
    return taken;
  }

  async terminate(
    endpointId: string,
    target: TerminateTarget,
    dryRun: boolean,
    options: TerminateOptions = {},
  ): Promise<TerminateResponse> {
    try {
      const { out, afterLostAnswer } = await this.call(
        true,
        () =>
          this.ec2.send(
            new TerminateClientVpnConnectionsCommand({
              ClientVpnEndpointId: endpointId,
              ...toTargetInput(target),
              DryRun: dryRun,
            }),
          ),
        options.giveUp,
      );
      return {
        dryRun: false,
        afterLostAnswer,
        changes: (out.ConnectionStatuses ?? []).map((s) => ({
          connectionId: s.ConnectionId ?? '',
          previousStatus: s.PreviousStatus?.Code ?? 'unknown',
          currentStatus: s.CurrentStatus?.Code ?? 'unknown',
        })),
      };
    } catch (error) {
      // EC2 answers a permitted dry run with an error: that is the success of a dry run.
      if (dryRun && error instanceof ClientVpnApiError && error.code === 'DryRunOperation')
        return { dryRun: true };
      throw error;
    }
  }
}

function toTargetInput(target: TerminateTarget) {
  return 'username' in target ? { Username: target.username } : { ConnectionId: target.connectionId };
}

/** EC2 gives connection times as "2019-08-12 07:57:14", in UTC. */
function parseEc2Time(text: string | undefined): number | undefined {
  const ms = text ? Date.parse(`${text.trim().replace(' ', 'T')}Z`) : Number.NaN;
  return Number.isNaN(ms) ? undefined : ms;
}

function toConnection(endpointId: string, c: ClientVpnConnection): VpnConnection {
  return {
    endpointId,
    connectionId: c.ConnectionId ?? '',
    username: c.Username ?? '',
    commonName: c.CommonName ?? '',
    clientIp: c.ClientIp ?? '',
    establishedAt: parseEc2Time(c.ConnectionEstablishedTime),
    counters: {
      ingressBytes: c.IngressBytes,
      egressBytes: c.EgressBytes,
      ingressPackets: c.IngressPackets,
      egressPackets: c.EgressPackets,
    },
  };
}
