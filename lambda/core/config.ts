import type { AccessHours } from './access-hours';
import { type Cidr, parseCidr } from './cidr';
import { ACCOUNT_ID, type NoticeFormat, type UsernameMatch } from './constants';
import { canonicalEndpoints, EndpointListError, type EndpointRef } from './endpoint-ref';
import { foldCase } from './identity';
import { TERMINATE_CONCURRENCY } from './limits';
import {
  type AlertSources,
  describeValue,
  type IdentityCenterSignals,
  InvalidSettingError,
  MissingSettingError,
  type OktaSignals,
  SETTINGS,
  type SettingDeclaration,
  settingValue,
} from './settings';
import type { SessionsSetting } from './types';

/** The evictor's configuration, validated once at cold start from its environment. */
export interface EvictorConfig {
  /** Each in its one spelling: unqualified in `region`, `<Region>:cvpn-endpoint-...` in another. */
  endpointIds: readonly EndpointRef[];
  /**
   * The deployment's own Region, where the unqualified endpoints are: Lambda's AWS_REGION (the functions are in the
   * stack's Region), the CLI's --region. Unknown, only unqualified endpoints may be named.
   */
  region?: string;
  dryRun: boolean;
  /** Never evicted: connections whose name equals one of these ignoring case, or shares its local part. */
  protectedUsers: readonly string[];
  /** Identity (case folded) -> VPN username. */
  identityMap: ReadonlyMap<string, string>;
  clientCidrs: readonly Cidr[];
  maxUsersPerEvent: number;
  eventSource: string;
  minSeverity: number;
  usernameMatch: UsernameMatch;
  /** Match certificate-authenticated connections by CommonName (needs a full listing of each endpoint). */
  matchCommonName: boolean;
  /** Terminate calls in flight per endpoint. */
  concurrency: number;
  /** How long a security eviction keeps the user out; 0 = no quarantine. Events may ask for longer. */
  quarantineMinutes: number;
  /** The quarantine table; without one nothing is quarantined and Release VPN User is rejected. */
  quarantineTable?: string;
  /** The share of the account's mutating EC2 budget (Terminate) the evictor paces itself to. */
  ec2BudgetShare: number;
  /** Idle and over-age sessions a scheduled sweep ends; none means `Sweep VPN Sessions` is rejected. */
  sessions?: SessionsSetting;
  /** Other accounts whose alerts reach the evictor; none: only this account's own bus carries alerts. */
  alertSources?: AlertSources;
  /** Okta's log stream: whose events act, and which event types offboard, evict or report a reactivation. */
  okta?: OktaSignals;
  /** IAM Identity Center: the identity store whose deleted users are offboarded. */
  identityCenter?: IdentityCenterSignals;
  /**
   * The account the evictor runs in: its own findings always count, and an IAM user name is only known to mean
   * the same person in it. Unknown (the CLI): every finding is treated as another account's.
   */
  deploymentAccount?: string;
  /** How the topic's notices read: for e-mail, or for chat. */
  noticeFormat: NoticeFormat;
}

/** The client-connect handler's configuration, validated once at cold start from its environment. */
export interface ConnectConfig {
  quarantineTable: string;
  /** Lets everyone in and logs whom it would deny, as the evictor terminates nobody in a dry run. */
  dryRun: boolean;
  /** Never denied: a break-glass user must always get in. */
  protectedUsers: readonly string[];
  matchCommonName: boolean;
  /** Whom a denied user should contact, as the denial message says it. */
  supportContact: string;
  /** Outside the window, new connections are denied unless exempt. */
  accessHours?: AccessHours;
}

export class ConfigurationError extends Error {
  override readonly name = 'ConfigurationError';
}

/**
 * A setting from the variable the stack wrote it to, read with the declaration `cdk synth` read the context with.
 * An invalid variable fails the cold start with a message that names it.
 */
function fromEnvironment<T>(setting: SettingDeclaration<T>, env: NodeJS.ProcessEnv): T {
  const { variable } = setting;
  if (variable === undefined) throw new ConfigurationError(`${setting.key} is not passed to the functions`);
  try {
    return settingValue(setting, env[variable]);
  } catch (error) {
    if (error instanceof MissingSettingError)
      throw new ConfigurationError(`${variable} must list ${error.expected}`);
    if (!(error instanceof InvalidSettingError)) throw error;
    if (error.item) {
      throw new ConfigurationError(
        `${variable}: ${describeValue(error.item.got)} is not ${error.item.expected}`,
      );
    }
    throw new ConfigurationError(
      `${variable}${error.path} must be ${error.expected}, got ${describeValue(error.got)}`,
    );
  }
}

/** The table the stack names, which is no setting: the stack creates it. */
const quarantineTableOf = (env: NodeJS.ProcessEnv) => env.QUARANTINE_TABLE?.trim() || undefined;

/** The account the stack deployed the function in, which the stack writes; no setting. */
function deploymentAccountOf(env: NodeJS.ProcessEnv): string | undefined {
  const account = env.DEPLOYMENT_ACCOUNT_ID?.trim();
  if (!account) return undefined;
  if (!ACCOUNT_ID.test(account))
    throw new ConfigurationError(
      `DEPLOYMENT_ACCOUNT_ID must be a 12-digit AWS account id, got ${describeValue(account)}`,
    );
  return account;
}

/** The connect handler's environment; like the evictor's, an invalid variable fails the cold start, naming it. */
export function parseConnectConfig(env: NodeJS.ProcessEnv): ConnectConfig {
  const quarantineTable = quarantineTableOf(env);
  if (!quarantineTable) throw new ConfigurationError('QUARANTINE_TABLE must name the quarantine table');
  const accessHours = fromEnvironment(SETTINGS.accessHours, env);
  return {
    quarantineTable,
    dryRun: fromEnvironment(SETTINGS.dryRun, env),
    protectedUsers: fromEnvironment(SETTINGS.protectedUsers, env),
    matchCommonName: fromEnvironment(SETTINGS.matchCommonName, env),
    supportContact: fromEnvironment(SETTINGS.supportContact, env),
    ...(accessHours ? { accessHours } : {}),
  };
}

/** ENDPOINT_IDS, each endpoint in its one spelling for the Region in AWS_REGION. */
function endpointIdsOf(env: NodeJS.ProcessEnv, region: string | undefined): EndpointRef[] {
  const { variable } = SETTINGS.endpointIds;
  try {
    return canonicalEndpoints(fromEnvironment(SETTINGS.endpointIds, env), region);
  } catch (error) {
    if (error instanceof EndpointListError) throw new ConfigurationError(`${variable}: ${error.message}`);
    throw error;
  }
}

/** Reads and validates the environment; any invalid variable fails the whole configuration, naming it. */
export function parseEvictorConfig(env: NodeJS.ProcessEnv): EvictorConfig {
  const quarantineTable = quarantineTableOf(env);
  const sessions = fromEnvironment(SETTINGS.sessions, env);
  const region = env.AWS_REGION?.trim() || undefined;
  const alertSources = fromEnvironment(SETTINGS.alertSources, env);
  const deploymentAccount = deploymentAccountOf(env);
  const okta = fromEnvironment(SETTINGS.okta, env);
  const identityCenter = fromEnvironment(SETTINGS.identityCenter, env);
  return {
    endpointIds: endpointIdsOf(env, region),
    ...(region ? { region } : {}),
    dryRun: fromEnvironment(SETTINGS.dryRun, env),
    protectedUsers: fromEnvironment(SETTINGS.protectedUsers, env),
    identityMap: new Map(
      Object.entries(fromEnvironment(SETTINGS.identityMap, env)).map(([identity, user]) => [
        foldCase(identity),
        user,
      ]),
    ),
    // Each one valid: the declaration checked it with parseCidr.
    clientCidrs: fromEnvironment(SETTINGS.clientCidrs, env).map((text) => parseCidr(text) as Cidr),
    maxUsersPerEvent: fromEnvironment(SETTINGS.maxUsersPerEvent, env),
    eventSource: fromEnvironment(SETTINGS.eventSource, env),
    minSeverity: fromEnvironment(SETTINGS.minSeverity, env),
    usernameMatch: fromEnvironment(SETTINGS.usernameMatch, env),
    matchCommonName: fromEnvironment(SETTINGS.matchCommonName, env),
    concurrency: TERMINATE_CONCURRENCY,
    quarantineMinutes: fromEnvironment(SETTINGS.quarantineMinutes, env),
    ...(quarantineTable ? { quarantineTable } : {}),
    ec2BudgetShare: fromEnvironment(SETTINGS.ec2BudgetShare, env),
    ...(sessions ? { sessions } : {}),
    ...(alertSources ? { alertSources } : {}),
    ...(okta ? { okta } : {}),
    ...(identityCenter ? { identityCenter } : {}),
    ...(deploymentAccount ? { deploymentAccount } : {}),
    noticeFormat: fromEnvironment(SETTINGS.noticeFormat, env),
  };
}
