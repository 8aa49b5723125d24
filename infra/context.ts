import { AccessHoursError, checkEndOfDayClockChanges } from '../lambda/core/access-hours';
import { canonicalEndpoints, EndpointListError, endpointsByRegion } from '../lambda/core/endpoint-ref';
import {
  describeValue,
  InvalidSettingError,
  MissingSettingError,
  SETTINGS,
  type SettingDeclaration,
  type SettingKey,
  type SettingValues,
  settingValue,
} from '../lambda/core/settings';

/** The deployment's settings, read from CDK context (`cdk.json` or `-c key=value`) and validated. */
export type DeploymentSettings = SettingValues;

export class ContextError extends Error {
  override readonly name = 'ContextError';
  /** `detail`: which entry of a list is at fault, and why. */
  constructor(key: string, expected: string, got: unknown, detail?: string) {
    super(`context "${key}": expected ${expected}, got ${describeValue(got)}${detail ? `: ${detail}` : ''}`);
  }
}

export const CONTEXT_KEYS = Object.values(SETTINGS).map((setting) => setting.key);

type Lookup = (key: string) => unknown;

/** One setting from CDK context; a bad value fails with its key (and the field at fault) and the form expected. */
export function readSetting<T>(setting: SettingDeclaration<T>, get: Lookup): T {
  try {
    return settingValue(setting, get(setting.key));
  } catch (error) {
    if (error instanceof MissingSettingError) {
      const example = setting.docs.example.split(',')[0];
      throw new ContextError(
        setting.key,
        `${error.expected} (cdk deploy -c ${setting.key}=${example})`,
        error.got,
      );
    }
    if (error instanceof InvalidSettingError) {
      const { item } = error;
      const detail = item && `${describeValue(item.got)} is not ${item.expected}`;
      throw new ContextError(`${setting.key}${error.path}`, error.expected, error.got, detail);
    }
    throw error;
  }
}

/** What the forwarder stack reads: where to forward, and the evictor's own filter. */
export type ForwarderSettings = Pick<
  DeploymentSettings,
  | 'minSeverity'
  | 'findingTypes'
  | 'forwardSecurityHubFindings'
  | 'forwardIdentityCenter'
  | 'notifyEmail'
  | 'stackName'
> & { alertBusArn: string };

/**
 * The forwarder's settings when `alertBusArn` is given, else undefined. It needs none of the evictor's own
 * (`endpointIds` above all): it is deployed in another account. Security Hub's copies cannot be filtered by
 * `findingTypes`, so forwarding them with a type filter is refused rather than forwarding types it would exclude.
 */
export function readForwarderSettings(get: Lookup): ForwarderSettings | undefined {
  const alertBusArn = readSetting(SETTINGS.alertBusArn, get);
  if (alertBusArn === undefined) return undefined;
  const settings = {
    alertBusArn,
    minSeverity: readSetting(SETTINGS.minSeverity, get),
    findingTypes: readSetting(SETTINGS.findingTypes, get),
    forwardSecurityHubFindings: readSetting(SETTINGS.forwardSecurityHubFindings, get),
    forwardIdentityCenter: readSetting(SETTINGS.forwardIdentityCenter, get),
    notifyEmail: readSetting(SETTINGS.notifyEmail, get),
    stackName: readSetting(SETTINGS.stackName, get),
  };
  if (settings.forwardSecurityHubFindings && settings.findingTypes.length > 0) {
    throw new ContextError(
      'forwardSecurityHubFindings',
      "false while findingTypes is set (Security Hub renames GuardDuty's finding types, so the type filter cannot apply to its findings)",
      true,
    );
  }
  return settings;
}

/** `protectedUsers`: never evicted by any trigger; the CLI applies them too. */
export const readProtectedUsers = (get: Lookup): string[] => readSetting(SETTINGS.protectedUsers, get);

/** How far ahead the zone's clock changes are checked against the end-of-day schedule. */
const CLOCK_CHANGE_HORIZON_MS = 10 * 366 * 86_400_000;

/** An invalid field of the access hours as `cdk synth` reports it, naming its context key. */
export function accessHoursContextError(error: AccessHoursError): ContextError {
  const key = error.field === undefined ? 'accessHours' : `accessHours.${error.field}`;
  return new ContextError(key, error.expected, error.got);
}

/**
 * `endpointIds` in their one spelling for the stack's Region (`region`), the Region known whenever an endpoint
 * names another, and the stack's Region always among those with endpoints: its replica of the
 * quarantine table would serve no connect handler, and the evictor is best beside the endpoints.
 */
function withRegions(settings: DeploymentSettings): DeploymentSettings {
  const { region } = settings;
  let endpointIds: string[];
  try {
    endpointIds = canonicalEndpoints(settings.endpointIds, region);
  } catch (error) {
    if (!(error instanceof EndpointListError)) throw error;
    const expected =
      error.kind === 'duplicate'
        ? 'each endpoint once'
        : "ids without a Region while the stack's own Region is not set (-c region=us-east-1)";
    throw new ContextError('endpointIds', expected, settings.endpointIds, error.message);
  }
  const regions = endpointsByRegion(endpointIds);
  // One other Region alone is refused too: the stack would still make a global table with a replica here, and a
  // connect handler here that no endpoint calls.
  if (!regions.has(undefined)) {
    throw new ContextError(
      'region',
      `a Region with endpoints, where the evictor and the quarantine table's first replica go: one of ${[...regions.keys()].join(', ')}`,
      region,
    );
  }
  return { ...settings, endpointIds };
}

/**
 * Validates every key before anything is built; the first bad key, in the order of the declarations, fails with
 * its name and expected form, then the endpoints' Regions (withRegions). At synth only, the access hours' end is
 * also checked against the zone's clock changes for years ahead (too slow for a cold start, and a deployed window
 * has passed it).
 */
export function readDeploymentSettings(get: Lookup): DeploymentSettings {
  const settings = Object.fromEntries(
    (Object.keys(SETTINGS) as SettingKey[]).map((key) => [
      key,
      readSetting(SETTINGS[key] as SettingDeclaration<unknown>, get),
    ]),
  ) as DeploymentSettings;
  if (settings.accessHours) {
    try {
      const now = Date.now();
      checkEndOfDayClockChanges(settings.accessHours, now, now + CLOCK_CHANGE_HORIZON_MS);
    } catch (error) {
      if (!(error instanceof AccessHoursError)) throw error;
      throw accessHoursContextError(error);
    }
  }
  // Identity Store calls of another account can only come in through the alert bus.
  if (settings.identityCenter?.accounts && !settings.alertSources) {
    throw new ContextError(
      'identityCenter.accounts',
      "none without alertSources (the alert bus the forwarder puts those accounts' Identity Store calls on)",
      settings.identityCenter.accounts,
    );
  }
  return withRegions(settings);
}
