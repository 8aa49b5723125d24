import { readDeploymentSettings } from '../../infra/context';
import { ConfigurationError, parseEvictorConfig } from '../../lambda/core/config';
import { SETTINGS, settingValue } from '../../lambda/core/settings';
import { ENDPOINT_A } from '../support/events';

const context = (sessions: unknown) => (key: string) =>
  ({ endpointIds: ENDPOINT_A, sessions })[key as 'endpointIds' | 'sessions'];

describe('the sessions setting', () => {
  it('takes its defaults: a sweep every 5 minutes, nobody exempt, a notice above 50 sessions', () => {
    expect(settingValue(SETTINGS.sessions, { idleMinutes: 15 })).toEqual({
      idleMinutes: 15,
      sweepMinutes: 5,
      exempt: [],
      noticeAbove: 50,
    });
    expect(
      settingValue(SETTINGS.sessions, { maxSessionHours: 8, exempt: ['oncall', 'oncall'], noticeAbove: 0 }),
    ).toEqual({
      maxSessionHours: 8,
      sweepMinutes: 5,
      exempt: ['oncall'],
      noticeAbove: 0,
    });
  });

  it('is read from CDK context as an object or as JSON text, and from the function environment', () => {
    const setting = { idleMinutes: 20, maxSessionHours: 10, sweepMinutes: 10, exempt: ['oncall'] };
    expect(readDeploymentSettings(context(setting)).sessions).toEqual({ ...setting, noticeAbove: 50 });
    expect(readDeploymentSettings(context(JSON.stringify(setting))).sessions).toEqual({
      ...setting,
      noticeAbove: 50,
    });
    expect(readDeploymentSettings(context(undefined)).sessions).toBeUndefined();
    expect(
      parseEvictorConfig({ ENDPOINT_IDS: ENDPOINT_A, SESSIONS: JSON.stringify(setting) }).sessions,
    ).toEqual({
      ...setting,
      noticeAbove: 50,
    });
  });

  it.each([
    {
      label: 'idleMinutes 0',
      value: { idleMinutes: 0 },
      key: 'sessions.idleMinutes',
      expected: 'a whole number from 10 to 1440',
    },
    {
      label: 'idleMinutes negative',
      value: { idleMinutes: -15 },
      key: 'sessions.idleMinutes',
      expected: 'a whole number from 10 to 1440',
    },
    {
      label: 'idleMinutes below 10',
      value: { idleMinutes: 9 },
      key: 'sessions.idleMinutes',
      expected: 'a whole number from 10 to 1440',
    },
    {
      label: 'idleMinutes not whole',
      value: { idleMinutes: 12.5 },
      key: 'sessions.idleMinutes',
      expected: 'a whole number from 10 to 1440',
    },
    {
      label: 'idleMinutes as text',
      value: { idleMinutes: '15' },
      key: 'sessions.idleMinutes',
      expected: 'a whole number from 10 to 1440',
    },
    {
      label: 'maxSessionHours 0',
      value: { maxSessionHours: 0 },
      key: 'sessions.maxSessionHours',
      expected: 'a whole number from 1 to 24',
    },
    {
      label: 'maxSessionHours over 24',
      value: { maxSessionHours: 25 },
      key: 'sessions.maxSessionHours',
      expected: 'a whole number from 1 to 24',
    },
    {
      label: 'sweepMinutes 0',
      value: { maxSessionHours: 8, sweepMinutes: 0 },
      key: 'sessions.sweepMinutes',
      expected: 'a whole number from 1 to 60',
    },
    {
      label: 'sweepMinutes negative',
      value: { maxSessionHours: 8, sweepMinutes: -5 },
      key: 'sessions.sweepMinutes',
      expected: 'a whole number from 1 to 60',
    },
    {
      label: 'sweepMinutes above idleMinutes',
      value: { idleMinutes: 15, sweepMinutes: 20 },
      key: 'sessions.sweepMinutes',
      expected:
        'at most idleMinutes (15): an idle session runs on up to two sweeps past idleMinutes, so the sweep must come at least once per idle time',
    },
    {
      label: 'noticeAbove negative',
      value: { idleMinutes: 15, noticeAbove: -1 },
      key: 'sessions.noticeAbove',
      expected: 'a whole number from 0 to 100000',
    },
    {
      label: 'exempt not a list',
      value: { idleMinutes: 15, exempt: 'oncall' },
      key: 'sessions.exempt',
      expected: 'a list of up to 100 VPN usernames',
    },
    {
      label: 'exempt with an empty name',
      value: { idleMinutes: 15, exempt: [''] },
      key: 'sessions.exempt',
      expected: 'a list of up to 100 VPN usernames',
    },
    {
      label: 'a misspelt field',
      value: { idleMinute: 15 },
      key: 'sessions.idleMinute',
      expected: 'one of the fields idleMinutes, maxSessionHours, sweepMinutes, noticeAbove, exempt',
    },
    {
      label: 'neither idleMinutes nor maxSessionHours',
      value: { sweepMinutes: 5 },
      key: 'sessions',
      expected: 'an object such as',
    },
    { label: 'not an object', value: [15], key: 'sessions', expected: 'an object such as' },
  ])(
    '$label: cdk synth fails naming $key; the function refuses SESSIONS the same way',
    ({ value, key, expected }) => {
      expect(() => readDeploymentSettings(context(value))).toThrow(`context "${key}": expected ${expected}`);
      // The function names its variable, and the field inside it: SESSIONS.idleMinutes.
      const variable = key.replace(/^sessions/, 'SESSIONS');
      expect(() => parseEvictorConfig({ ENDPOINT_IDS: ENDPOINT_A, SESSIONS: JSON.stringify(value) })).toThrow(
        new ConfigurationError(`${variable} must be ${expected}`).message,
      );
    },
  );

  it('SESSIONS that is not JSON fails the cold start, naming it', () => {
    expect(() => parseEvictorConfig({ ENDPOINT_IDS: ENDPOINT_A, SESSIONS: '{idleMinutes: 15}' })).toThrow(
      'SESSIONS must be an object such as {"idleMinutes":15,',
    );
  });
});
