import type { Template } from 'aws-cdk-lib/assertions';
import { parseEvent } from '../../lambda/core/events';
import { EXAMPLE_ENDPOINTS, synthesize } from '../support/synth';

const sweepSchedules = (template: Template) =>
  Object.values(template.findResources('AWS::Scheduler::Schedule'))
    .map((s) => s.Properties)
    .filter((p) => JSON.parse(p.Target.Input)['detail-type'] === 'Sweep VPN Sessions');

const evictorOf = (template: Template) =>
  Object.entries(template.findResources('AWS::Lambda::Function')).find(([id]) =>
    /^Evictor[0-9A-F]{8}$/.test(id),
  )?.[1];

describe('the sessions setting in the stack', () => {
  const sessions = { idleMinutes: 15, maxSessionHours: 8, exempt: ['oncall'] };
  const { template } = synthesize({
    endpointIds: EXAMPLE_ENDPOINTS[0],
    eventSource: 'corp.security',
    sessions,
  });

  it('schedules Sweep VPN Sessions every sweepMinutes (5 by default) through the schedules role, as Scheduler delivers it', () => {
    const schedules = sweepSchedules(template);
    expect(schedules).toHaveLength(1);
    const [schedule] = schedules as [Record<string, any>];
    expect(schedule.ScheduleExpression).toBe('rate(5 minutes)');
    expect(schedule.ScheduleExpressionTimezone).toBe('Etc/UTC');
    expect(schedule.FlexibleTimeWindow).toEqual({ Mode: 'OFF' });
    expect(JSON.parse(schedule.Target.Input)).toEqual({
      version: '0',
      id: '<aws.scheduler.execution-id>',
      source: 'corp.security',
      'detail-type': 'Sweep VPN Sessions',
      time: '<aws.scheduler.scheduled-time>',
      detail: { reason: 'scheduled session sweep' },
    });
    expect(parseEvent(JSON.parse(schedule.Target.Input), 'corp.security').kind).toBe('sweep');
    expect(schedule.Target.Arn).toEqual({
      'Fn::GetAtt': [expect.stringMatching(/^Evictor[0-9A-F]{8}$/), 'Arn'],
    });
    expect(schedule.Target.RoleArn).toEqual({
      'Fn::GetAtt': [expect.stringMatching(/^SchedulerRole/), 'Arn'],
    });
    // A retried delivery never lands after the next sweep's time.
    expect(schedule.Target.RetryPolicy).toEqual({ MaximumEventAgeInSeconds: 300, MaximumRetryAttempts: 2 });
    expect(schedule.Target.DeadLetterConfig.Arn['Fn::GetAtt'][0]).toMatch(/^UndeliveredEvents/);
  });

  it('no EventBridge rule routes Sweep VPN Sessions: put-events cannot start a sweep off the schedule', () => {
    const routed = Object.values(template.findResources('AWS::Events::Rule')).flatMap(
      (rule) => rule.Properties.EventPattern['detail-type'] ?? [],
    );
    expect(routed).toContain('Disconnect All VPN Users');
    expect(routed).not.toContain('Sweep VPN Sessions');
  });

  it('hands the evictor the setting, with its defaults, in SESSIONS', () => {
    expect(JSON.parse(evictorOf(template)?.Properties.Environment.Variables.SESSIONS)).toEqual({
      ...sessions,
      sweepMinutes: 5,
      noticeAbove: 50,
    });
  });

  it('asks no more of the table than before: item reads and writes, never a scan', () => {
    const statements = Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((p) => p.Properties.Roles.some((r: { Ref: string }) => /^EvictorRole/.test(r.Ref)))
      .flatMap((p) => p.Properties.PolicyDocument.Statement)
      .filter((s) => [s.Action].flat().some((a: string) => a.startsWith('dynamodb:')));
    expect(statements.map((s) => s.Action)).toEqual([
      ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
    ]);
  });

  it('a sweep every 10 minutes: rate(10 minutes), and retries for at most 10 minutes', () => {
    const { template: slower } = synthesize({
      endpointIds: EXAMPLE_ENDPOINTS[0],
      sessions: JSON.stringify({ idleMinutes: 30, sweepMinutes: 10 }),
    });
    const [schedule] = sweepSchedules(slower) as [Record<string, any>];
    expect(schedule.ScheduleExpression).toBe('rate(10 minutes)');
    expect(schedule.Target.RetryPolicy.MaximumEventAgeInSeconds).toBe(600);
  });

  it('without the setting: no sweep, no SESSIONS, no schedules role', () => {
    const { template: plain } = synthesize({ endpointIds: EXAMPLE_ENDPOINTS[0] });
    expect(sweepSchedules(plain)).toEqual([]);
    expect(evictorOf(plain)?.Properties.Environment.Variables.SESSIONS).toBeUndefined();
    expect(
      Object.keys(plain.findResources('AWS::IAM::Role')).filter((id) => /^SchedulerRole/.test(id)),
    ).toEqual([]);
  });

  it('synthesizes with no unacknowledged cdk-nag finding (AwsSolutions, Serverless)', () => {
    // cdk-nag's packs run on every synth (infra/app.ts); an unacknowledged finding fails it.
    expect(() =>
      synthesize({ endpointIds: EXAMPLE_ENDPOINTS, sessions: { maxSessionHours: 12 } }),
    ).not.toThrow();
  });

  it('an invalid setting fails the synth, naming the key, and builds nothing', () => {
    expect(() => synthesize({ endpointIds: EXAMPLE_ENDPOINTS[0], sessions: { idleMinutes: 5 } })).toThrow(
      'context "sessions.idleMinutes": expected a whole number from 10 to 1440, got 5',
    );
  });
});
