import { isVpnUsername } from './identity';
import type { SessionsSetting } from './types';

/** A field of the setting is invalid. Callers turn it into their own error, naming their key. */
export class SessionsSettingError extends Error {
  override readonly name = 'SessionsSettingError';
  constructor(
    /** The field at fault, or undefined when the setting as a whole is. */
    readonly field: string | undefined,
    readonly expected: string,
    readonly got: unknown,
  ) {
    super(`${field ?? 'sessions'}: expected ${expected}, got ${JSON.stringify(got)?.slice(0, 200)}`);
  }
}

const WHOLE_NUMBERS = {
  idleMinutes: { min: 10, max: 24 * 60 },
  /** Client VPN's own maximum session duration is 24 hours; this setting may be any whole hour below it. */
  maxSessionHours: { min: 1, max: 24 },
  /** EventBridge Scheduler's shortest rate is one minute. */
  sweepMinutes: { min: 1, max: 60 },
  noticeAbove: { min: 0, max: 100_000 },
} as const;
type WholeNumberField = keyof typeof WHOLE_NUMBERS;

const DEFAULTS = { sweepMinutes: 5, noticeAbove: 50 } as const;
const MAX_EXEMPT = 100;
const FIELDS = [...Object.keys(WHOLE_NUMBERS), 'exempt'];
const FORM =
  'an object such as {"idleMinutes":15,"maxSessionHours":8,"sweepMinutes":5,"exempt":["oncall"],"noticeAbove":50}, with idleMinutes or maxSessionHours or both';

function wholeNumber(fields: Record<string, unknown>, field: WholeNumberField): number | undefined {
  const raw = fields[field];
  if (raw === undefined) return undefined;
  const { min, max } = WHOLE_NUMBERS[field];
  if (typeof raw !== 'number' || !Number.isInteger(raw) || raw < min || raw > max) {
    throw new SessionsSettingError(field, `a whole number from ${min} to ${max}`, raw);
  }
  return raw;
}

/**
 * Validates the setting (from CDK context or the function's environment) and returns it with its defaults; throws
 * SessionsSettingError naming the first invalid field and its expected form. Unknown fields are errors, so a
 * misspelt `exempt` cannot silently leave the on-call engineer to be disconnected.
 */
export function parseSessionsSetting(raw: unknown): SessionsSetting {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new SessionsSettingError(undefined, FORM, raw);
  }
  const fields = raw as Record<string, unknown>;
  const unknown = Object.keys(fields).find((key) => !FIELDS.includes(key));
  if (unknown !== undefined) {
    throw new SessionsSettingError(unknown, `one of the fields ${FIELDS.join(', ')}`, unknown);
  }
  const idleMinutes = wholeNumber(fields, 'idleMinutes');
  const maxSessionHours = wholeNumber(fields, 'maxSessionHours');
  if (idleMinutes === undefined && maxSessionHours === undefined) {
    throw new SessionsSettingError(undefined, FORM, raw);
  }
  const sweepMinutes = wholeNumber(fields, 'sweepMinutes') ?? DEFAULTS.sweepMinutes;
  if (idleMinutes !== undefined && sweepMinutes > idleMinutes) {
    throw new SessionsSettingError(
      'sweepMinutes',
      `at most idleMinutes (${idleMinutes}), so that an idle session ends within one sweep of its idle time`,
      sweepMinutes,
    );
  }
  const { exempt = [] } = fields;
  if (!Array.isArray(exempt) || exempt.length > MAX_EXEMPT || !exempt.every(isVpnUsername)) {
    throw new SessionsSettingError('exempt', `a list of up to ${MAX_EXEMPT} VPN usernames`, exempt);
  }
  return {
    ...(idleMinutes !== undefined ? { idleMinutes } : {}),
    ...(maxSessionHours !== undefined ? { maxSessionHours } : {}),
    sweepMinutes,
    exempt: [...new Set(exempt)],
    noticeAbove: wholeNumber(fields, 'noticeAbove') ?? DEFAULTS.noticeAbove,
  };
}
