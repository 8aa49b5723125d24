import * as z from 'zod';
import { noticeFor } from '../../lambda/core/notice';
import type { EvictionResult, SweepSummary } from '../../lambda/core/result';
import type { Outcome } from '../../lambda/core/types';
import { createEvictorHandler } from '../../lambda/create-evictor-handler';
import { customEvent, ENDPOINT_A, ENDPOINT_B, testConfig } from '../support/events';
import { conn, FakeClientVpnApi } from '../support/fake-client-vpn';
import { recorders } from '../support/recorders';

/**
 * The custom notification schema, as "Custom notifications using Amazon Q Developer in chat applications" gives it
 * (https://docs.aws.amazon.com/chatbot/latest/adminguide/custom-notifs.html, "Event schema" and "Parameter details"):
 * `version` is required and must be "1.0"; `source` is required and must be "custom"; `id` is an optional unique
 * event identifier; in `content`, `textType` is optional and "client-markdown" the only one supported, `title` and
 * `description` are markdown strings, `nextSteps` and `keywords` lists of strings; `metadata` holds optional
 * `threadId`, `summary`, `eventType`, `relatedResources` (a list of strings) and `additionalContext` (string values).
 * Messages of another shape are not relayed, so the schema is strict: a field it does not name fails the test.
 * The page gives no length limits in the table we could read; the bounds on title and description here are the
 * evictor's own: Slack shows 3,000 characters of a text block, the limit docs/operations.md gives a description.
 */
const DESCRIPTION_LIMIT = 3_000;
const customNotification = z.strictObject({
  version: z.literal('1.0'),
  source: z.literal('custom'),
  id: z.string().optional(),
  content: z.strictObject({
    textType: z.literal('client-markdown').optional(),
    title: z.string().min(1).optional(),
    description: z.string().min(1),
    nextSteps: z.array(z.string().min(1)).optional(),
    keywords: z.array(z.string().min(1)).optional(),
  }),
  metadata: z
    .strictObject({
      threadId: z.string().optional(),
      summary: z.string().optional(),
      eventType: z.string().optional(),
      relatedResources: z.array(z.string()).optional(),
      additionalContext: z.record(z.string(), z.string()).optional(),
    })
    .optional(),
});

const CONNECTION = 'cvpn-connection-00000000000000001';
const terminated = (username: string, endpointId = ENDPOINT_A): Outcome => ({
  endpointId,
  connectionId: CONNECTION,
  username,
  status: 'terminated',
  previousStatus: 'active',
  currentStatus: 'terminating',
});
const failedOutcome = (username: string, transient: boolean): Outcome => ({
  endpointId: ENDPOINT_B,
  connectionId: 'cvpn-connection-00000000000000002',
  username,
  status: 'failed',
  reason: transient ? 'RequestLimitExceeded' : 'UnauthorizedOperation',
  transient,
});
const endpoint = (endpointId: string, counts: Partial<EvictionResult['endpoints'][number]> = {}) => ({
  endpointId,
  terminated: 0,
  wouldTerminate: 0,
  failed: 0,
  skipped: 0,
  ...counts,
});

const result = (overrides: Partial<EvictionResult>): EvictionResult => ({
  status: 'completed',
  mode: 'ENFORCING',
  trigger: 'guardduty',
  correlationId: 'finding-7f3a',
  reason: 'GuardDuty UnauthorizedAccess:IAMUser/MaliciousIPCaller',
  users: ['alice@example.com'],
  notConnected: [],
  stillConnected: [],
  quarantine: [{ username: 'alice@example.com', outcome: 'written', until: '2026-11-29T16:00:00.000Z' }],
  endpoints: [endpoint(ENDPOINT_A, { terminated: 1 })],
  outcomes: [terminated('alice@example.com')],
  apiCalls: { describe: 2, terminate: 1 },
  notes: [],
  round: 1,
  ...overrides,
});

const sweep = (overrides: Partial<SweepSummary>): SweepSummary => ({
  ended: { idle: 0, overAge: 0 },
  kept: { protected: 0, exempt: 0 },
  unreadableCounters: 0,
  clockWentBack: [],
  table: { reads: 1, writes: 1, readUnits: 0.5, writeUnits: 1 },
  stateFailed: [],
  noticeAbove: 50,
  newlyDue: 0,
  ...overrides,
});

interface Row {
  label: string;
  input: EvictionResult;
  /** What leads both forms, from the rules in notice.ts's doc comment: the trigger, then what needs a person. */
  headline: string;
  /** Whether the chat title leads with a call to a person. */
  needsAPerson: boolean;
  /** The users and endpoints the chat form must name. */
  names: string[];
  endpoints: string[];
  /** A command the next steps must give. */
  command: string;
}

const rows: Row[] = [
  {
    label: 'completed: a finding evicted alice and quarantined her',
    input: result({}),
    headline: 'guardduty: 1 connections terminated',
    needsAPerson: false,
    names: ['alice@example.com'],
    endpoints: [ENDPOINT_A],
    command: "cvpn-evict quarantine release 'alice@example.com' --reason '...' --table \"$TABLE\"",
  },
  {
    label: 'completed in a dry run',
    input: result({
      mode: 'DRY-RUN',
      endpoints: [endpoint(ENDPOINT_A, { wouldTerminate: 1 })],
      outcomes: [{ ...terminated('alice@example.com'), status: 'would-terminate' } as Outcome],
      quarantine: [{ username: 'alice@example.com', outcome: 'would-write' }],
    }),
    headline: 'guardduty: 1 connections would be terminated',
    needsAPerson: false,
    names: ['alice@example.com'],
    endpoints: [ENDPOINT_A],
    command: `cvpn-evict connections --endpoint-id ${ENDPOINT_A}`,
  },
  {
    label: 'not-connected: a named user had no connection',
    input: result({
      trigger: 'evict',
      status: 'not-connected',
      users: [],
      notConnected: ['bob'],
      quarantine: [{ username: 'bob', outcome: 'written', until: '2026-11-29T16:00:00.000Z' }],
      endpoints: [endpoint(ENDPOINT_A)],
      outcomes: [],
    }),
    headline: 'evict: NOT CONNECTED: bob; 0 terminated',
    needsAPerson: true,
    names: ['bob'],
    endpoints: [ENDPOINT_A],
    command: "cvpn-evict quarantine release 'bob' --reason '...' --table \"$TABLE\"",
  },
  {
    label: 'continuing with a failure no retry can fix',
    input: result({
      status: 'continuing',
      users: ['alice@example.com', 'carol'],
      endpoints: [endpoint(ENDPOINT_A, { terminated: 1 }), endpoint(ENDPOINT_B, { failed: 1 })],
      outcomes: [terminated('alice@example.com'), failedOutcome('carol', false)],
    }),
    headline: 'guardduty: FAILED: 1 not terminated; 1 terminated; continuing',
    needsAPerson: true,
    names: ['alice@example.com', 'carol'],
    endpoints: [ENDPOINT_A, ENDPOINT_B],
    // Only carol is left, on the endpoint where her call failed: alice was evicted.
    command: `cvpn-evict evict 'carol' --endpoint-id ${ENDPOINT_B} --reason`,
  },
  {
    label: 'failed: an endpoint could not be listed for good',
    input: result({
      trigger: 'disconnect-all',
      status: 'failed',
      users: [],
      quarantine: [],
      endpoints: [endpoint(ENDPOINT_A, { error: 'UnauthorizedOperation', errorKind: 'permanent' })],
      outcomes: [],
    }),
    headline: 'disconnect-all: FAILED: 1 endpoint not listed; 0 terminated',
    needsAPerson: true,
    names: [],
    endpoints: [ENDPOINT_A],
    command: 'correlation-id',
  },
  {
    label: 'partial-failure: one connection throttled to the end',
    input: result({
      status: 'partial-failure',
      users: ['alice@example.com'],
      endpoints: [endpoint(ENDPOINT_A, { terminated: 1 }), endpoint(ENDPOINT_B, { failed: 1 })],
      outcomes: [terminated('alice@example.com'), failedOutcome('alice@example.com', true)],
    }),
    headline: 'guardduty: FAILED: 1 not terminated; 1 terminated',
    needsAPerson: true,
    names: ['alice@example.com'],
    endpoints: [ENDPOINT_A, ENDPOINT_B],
    command: `cvpn-evict evict 'alice@example.com' --endpoint-id ${ENDPOINT_B} --reason 'GuardDuty UnauthorizedAccess:IAMUser/MaliciousIPCaller' --table "$TABLE"`,
  },
  {
    label: 'refused: an ambiguous name, nobody evicted',
    input: result({
      status: 'refused',
      refusal: 'ambiguous: alice matches alice@a.example, alice@b.example',
      users: [],
      quarantine: [],
      endpoints: [],
      outcomes: [],
    }),
    headline: 'guardduty: REFUSED, nobody evicted: ambiguous: alice matches alice@a.example, alice@b.example',
    needsAPerson: true,
    names: ['alice@a.example', 'alice@b.example'],
    endpoints: [],
    command: 'cvpn-evict evict USERNAME',
  },
  {
    label: 'completed, with a protected user an alert named kept connected',
    input: result({
      users: [],
      quarantine: [],
      endpoints: [endpoint(ENDPOINT_A, { skipped: 1 })],
      outcomes: [
        {
          endpointId: ENDPOINT_A,
          connectionId: CONNECTION,
          username: 'breakglass',
          status: 'skipped',
          reason: 'protected',
        },
      ],
    }),
    headline: 'guardduty: PROTECTED USER KEPT: breakglass; 0 terminated',
    needsAPerson: true,
    names: [],
    endpoints: [ENDPOINT_A],
    command: `cvpn-evict connections --endpoint-id ${ENDPOINT_A}`,
  },
  {
    label: 'a release, naming who is let back in',
    input: result({
      trigger: 'release',
      reason: 'INC-4711: false positive',
      users: [],
      quarantine: [{ username: 'alice@example.com', outcome: 'released', until: '2026-11-29T16:00:00.000Z' }],
      endpoints: [],
      outcomes: [],
    }),
    headline: 'release: RELEASED alice@example.com',
    needsAPerson: true,
    names: ['alice@example.com'],
    endpoints: [],
    command: "cvpn-evict quarantine add 'alice@example.com' --minutes 60",
  },
  {
    label: 'a release that failed',
    input: result({
      trigger: 'release',
      status: 'partial-failure',
      users: [],
      quarantine: [{ username: 'alice@example.com', outcome: 'failed', error: 'table unreachable' }],
      endpoints: [],
      outcomes: [],
    }),
    headline: 'release: FAILED to release alice@example.com',
    needsAPerson: true,
    names: ['alice@example.com'],
    endpoints: [],
    command: "cvpn-evict quarantine release 'alice@example.com'",
  },
  {
    label: 'a sweep that failed',
    input: result({
      trigger: 'sweep',
      status: 'failed',
      users: [],
      quarantine: [],
      endpoints: [endpoint(ENDPOINT_A, { error: 'UnauthorizedOperation', errorKind: 'permanent' })],
      outcomes: [],
      sweep: sweep({}),
    }),
    headline: 'sweep: FAILED: 1 endpoint not listed; 0 ended',
    needsAPerson: true,
    names: [],
    endpoints: [ENDPOINT_A],
    command: `cvpn-evict sessions --endpoint-id ${ENDPOINT_A} --table "$TABLE"`,
  },
  {
    label: 'a sweep that ended more than noticeAbove',
    input: result({
      trigger: 'sweep',
      users: [],
      quarantine: [],
      endpoints: [endpoint(ENDPOINT_A, { terminated: 3 })],
      outcomes: [],
      sweep: sweep({ ended: { idle: 2, overAge: 1 }, noticeAbove: 2 }),
    }),
    headline: 'sweep: 3 ended (2 idle, 1 over age), above noticeAbove 2',
    needsAPerson: false,
    names: [],
    endpoints: [ENDPOINT_A],
    command: `cvpn-evict sessions --endpoint-id ${ENDPOINT_A}`,
  },
];

describe('notices in both forms, for every result status', () => {
  it.each(rows)('$label', ({ input, headline, needsAPerson, names, endpoints, command }) => {
    // SNS refuses a subject over 100 characters.
    const full = `[client-vpn-evictor ${input.mode}] ${headline}`;
    const subject = full.length > 100 ? `${full.slice(0, 97)}...` : full;
    const text = noticeFor(input, 'text');
    expect(text?.subject).toBe(subject);
    expect(JSON.parse(text?.message ?? '{}')).toMatchObject({
      status: input.status,
      correlationId: input.correlationId,
    });

    const chat = noticeFor(input, 'chat');
    expect(chat?.subject).toBe(subject);
    const notification = customNotification.parse(JSON.parse(chat?.message ?? '{}'));
    const { title, description, nextSteps = [] } = notification.content;
    // The title leads with what needs a person: the e-mail subject's headline, whole.
    expect(title).toBe(`${needsAPerson ? ':rotating_light: ' : ''}VPN ${input.mode}: ${headline}`);
    if (needsAPerson) expect(description.split('\n')[0]).toBe(`*Needs a person:* \`${headline}\``);
    else expect(description).not.toContain('Needs a person');
    for (const name of names) expect(description).toContain(name);
    for (const id of endpoints) expect(description).toContain(`\`${id}\``);
    expect(description).toContain(`*Correlation id:* \`${input.correlationId}\``);
    expect(nextSteps.some((step) => step.includes(command))).toBe(true);
    expect(notification.metadata?.threadId).toBe(input.correlationId);
    expect(notification.content.keywords).toEqual([input.mode, input.trigger, input.status]);
  });

  it.each([
    {
      label: 'ignored',
      input: result({ status: 'ignored', endpoints: [], outcomes: [], quarantine: [], users: [] }),
    },
    {
      label: 'continuing with nothing no retry can fix (the last round reports)',
      input: result({ status: 'continuing' }),
    },
    {
      label: 'a sweep within noticeAbove',
      input: result({
        trigger: 'sweep',
        users: [],
        quarantine: [],
        sweep: sweep({ ended: { idle: 3, overAge: 0 } }),
      }),
    },
  ])('stays silent in both forms: $label', ({ input }) => {
    expect(noticeFor(input, 'text')).toBeUndefined();
    expect(noticeFor(input, 'chat')).toBeUndefined();
  });

  it('a name cannot become a chat mention, a link or formatting, and a command cannot expand it', () => {
    const name = "<!channel> `x` $(rm -rf ~) o'brien";
    const chat = noticeFor(
      result({ users: [name], notConnected: [], quarantine: [{ username: name, outcome: 'written' }] }),
      'chat',
    );
    const { description, nextSteps = [] } = customNotification.parse(
      JSON.parse(chat?.message ?? '{}'),
    ).content;
    expect(description).not.toMatch(/<!channel>/);
    expect(description).toContain("`'!channel' 'x' $(rm -rf ~) o'brien`");
    // No backtick survives into a command, so no name can close the code span the command sits in.
    expect(nextSteps.join('\n')).toContain(
      "`cvpn-evict quarantine release '!channel x $(rm -rf ~) o'\\''brien'",
    );
  });

  it('a name in the title or summary cannot mention, link or format', () => {
    const name = '<!channel> *URGENT* [re-enrol your VPN](https://evil.example) `x`';
    const chat = noticeFor(
      result({ status: 'not-connected', users: [], notConnected: [name], quarantine: [] }),
      'chat',
    );
    const { content, metadata } = customNotification.parse(JSON.parse(chat?.message ?? '{}'));
    for (const text of [content.title, metadata?.summary ?? '']) {
      expect(text).toContain('!channel');
      // No mention, no bold, no link, no code span: what the name spelled is left as plain text.
      expect(text).not.toMatch(/<!channel>|\*URGENT\*|\]\(|`/);
    }
  });

  it('a disconnect of thousands stays within what a chat message shows, saying how many more', () => {
    const users = Array.from({ length: 3_000 }, (_, i) => `user${i}@example.com`);
    const endpoints = Array.from({ length: 30 }, (_, i) =>
      endpoint(`cvpn-endpoint-${String(i).padStart(17, '0')}`, { terminated: 100 }),
    );
    const chat = noticeFor(result({ trigger: 'disconnect-all', users, quarantine: [], endpoints }), 'chat');
    const { description } = customNotification.parse(JSON.parse(chat?.message ?? '{}')).content;
    expect(description.length).toBeLessThanOrEqual(DESCRIPTION_LIMIT);
    expect(description).toContain('and 2990 more');
    expect(description).toContain('• and 20 more');
  });

  it('a disconnect-all of 3,000 users where one call failed: the step to evict by hand names that one user', () => {
    const users = Array.from({ length: 3_000 }, (_, i) => `user${i}@example.com`);
    const endpointIds = Array.from({ length: 30 }, (_, i) => `cvpn-endpoint-${String(i).padStart(17, '0')}`);
    const last = endpointIds[29] ?? '';
    const outcomes = users.map((username, i) =>
      i === 2_999
        ? { ...failedOutcome(username, false), endpointId: last }
        : terminated(username, endpointIds[Math.floor(i / 100)]),
    );
    const input = result({
      trigger: 'disconnect-all',
      status: 'failed',
      reason: 'end of the working day',
      users,
      stillConnected: ['user2999@example.com'],
      quarantine: [],
      endpoints: endpointIds.map((id, i) =>
        endpoint(id, i === 29 ? { terminated: 99, failed: 1 } : { terminated: 100 }),
      ),
      outcomes,
    });
    const chat = noticeFor(input, 'chat');
    const { nextSteps = [] } = customNotification.parse(JSON.parse(chat?.message ?? '{}')).content;
    const byHand = nextSteps.filter((step) => step.includes('cvpn-evict evict'));
    // The one user still connected, where the call failed; no quarantine (the end of the day keeps nobody out), and
    // one name is within evict's default --max-users (5), so the command runs as shown.
    expect(byHand).toEqual([
      `Evict what is left by hand: \`cvpn-evict evict 'user2999@example.com' --endpoint-id ${last} --reason 'end of the working day'\``,
    ]);
    // The text form has no next steps: its message is the result, which says who is still connected.
    expect(JSON.parse(noticeFor(input, 'text')?.message ?? '{}').stillConnected).toEqual([
      'user2999@example.com',
    ]);
  });

  it.each([
    { label: '5 failed: within the default --max-users (5)', failed: 5, flag: '', first: '' },
    { label: '6 failed: --max-users 6', failed: 6, flag: ' --max-users 6', first: '' },
    {
      label: '12 failed: the first ten, --max-users 10',
      failed: 12,
      flag: ' --max-users 10',
      first: ' (the first 10 of 12 users; the query below names the rest)',
    },
  ])(
    'the step to evict by hand raises --max-users past the CLI default: $label',
    ({ failed, flag, first }) => {
      const users = Array.from({ length: 20 }, (_, i) => `u${String(i).padStart(2, '0')}`);
      const input = result({
        trigger: 'evict',
        status: 'failed',
        reason: 'INC-1',
        users,
        quarantine: [],
        endpoints: [endpoint(ENDPOINT_A, { terminated: 20 - failed }), endpoint(ENDPOINT_B, { failed })],
        outcomes: users.map((u, i) => (i < failed ? failedOutcome(u, false) : terminated(u))),
      });
      const names = users
        .slice(0, Math.min(failed, 10))
        .map((u) => `'${u}'`)
        .join(' ');
      const { nextSteps = [] } = customNotification.parse(
        JSON.parse(noticeFor(input, 'chat')?.message ?? '{}'),
      ).content;
      expect(nextSteps).toContain(
        `Evict what is left by hand${first}: \`cvpn-evict evict ${names}${flag} --endpoint-id ${ENDPOINT_B} --reason 'INC-1' --table "$TABLE"\``,
      );
    },
  );

  it("a long reason's command keeps its first 100 characters whole: an emoji at the cut is never halved", () => {
    const reason = `${'r'.repeat(99)}\u{1F525}and more`;
    const input = result({
      trigger: 'evict',
      status: 'failed',
      reason,
      users: ['bob'],
      quarantine: [],
      endpoints: [endpoint(ENDPOINT_B, { failed: 1 })],
      outcomes: [failedOutcome('bob', false)],
    });
    const { nextSteps = [] } = customNotification.parse(
      JSON.parse(noticeFor(input, 'chat')?.message ?? '{}'),
    ).content;
    const byHand = nextSteps.find((step) => step.startsWith('Evict what is left by hand')) ?? '';
    // The 100 characters a person sees: 99 letters and the whole emoji (a cut by code unit leaves half of it).
    expect(byHand).toContain(`--reason '${'r'.repeat(99)}\u{1F525}'`);
  });

  it('the longest next steps (ten names of 256 characters failed on 40 endpoints) stay within 3,000 characters, each command whole', () => {
    const users = Array.from({ length: 10 }, (_, i) => `${i}${'x'.repeat(255)}`);
    const endpointIds = Array.from(
      { length: 40 },
      (_, i) => `eu-west-1:cvpn-endpoint-${String(i).padStart(17, '0')}`,
    );
    const input = result({
      status: 'failed',
      reason: 'r'.repeat(1024),
      users,
      quarantine: users.map((username) => ({ username, outcome: 'written' as const })),
      endpoints: endpointIds.map((id) => endpoint(id, { failed: 1 })),
      outcomes: endpointIds.map((id, i) => ({
        ...failedOutcome(users[i % 10] ?? '', false),
        endpointId: id,
      })),
    });
    const { nextSteps = [] } = customNotification.parse(
      JSON.parse(noticeFor(input, 'chat')?.message ?? '{}'),
    ).content;
    for (const step of nextSteps) {
      expect(step.length).toBeLessThanOrEqual(DESCRIPTION_LIMIT);
      // Every code span closes: a command is shown whole or not at all.
      expect(step.split('`').length % 2).toBe(1);
      // A command names ten endpoints at most, the first ten, in their order.
      const named = [...step.matchAll(/--endpoint-id ([^\s`]+)/g)].map((m) => m[1]);
      expect(named).toEqual(endpointIds.slice(0, named.length));
      expect(named.length).toBeLessThanOrEqual(10);
    }
    // Ten names of 258 characters quoted, with ten endpoints, pass 3,000: the command names as many as fit.
    const byHand = nextSteps.find((step) => step.startsWith('Evict what is left by hand')) ?? '';
    const count = users.filter((u) => byHand.includes(`'${u}'`)).length;
    expect(count).toBeGreaterThan(0);
    expect(count).toBeLessThan(10);
    expect(byHand).toContain(`(the first ${count} of 10 users and the first 10 of 40 endpoints;`);
    expect(byHand).toContain(count > 5 ? ` --max-users ${count} ` : `' --endpoint-id`);
    expect(byHand.endsWith('--table "$TABLE"`')).toBe(true);
  });

  it.each([
    {
      label: 'one entry lifted: the thread of the eviction that wrote it',
      lifted: [['alice', 'released', 'finding-7f3a']],
      thread: 'finding-7f3a',
    },
    {
      label: 'two entries one eviction wrote: its thread',
      lifted: [
        ['alice', 'released', 'finding-7f3a'],
        ['bob', 'released', 'finding-7f3a'],
      ],
      thread: 'finding-7f3a',
    },
    {
      label: 'a dry run that would lift one entry: the thread of the eviction that wrote it',
      lifted: [['alice', 'would-release', 'finding-7f3a']],
      thread: 'finding-7f3a',
    },
    {
      label: 'entries two evictions wrote: the release its own thread',
      lifted: [
        ['alice', 'released', 'finding-7f3a'],
        ['bob', 'released', 'evt-stolen-laptop'],
      ],
      thread: 'evt-release',
    },
    {
      label: 'nothing lifted: the release its own thread',
      lifted: [['alice', 'not-quarantined', undefined]],
      thread: 'evt-release',
    },
  ])('a release threads with the eviction whose quarantine it lifted: $label', ({ lifted, thread }) => {
    const input = result({
      trigger: 'release',
      correlationId: 'evt-release',
      users: lifted.map(([username]) => username ?? ''),
      quarantine: lifted.map(([username, outcome, from]) => ({
        username: username ?? '',
        outcome: outcome as 'released' | 'would-release' | 'not-quarantined',
        ...(from ? { quarantineCorrelationId: from } : {}),
      })),
      endpoints: [],
      outcomes: [],
    });
    const notification = customNotification.parse(JSON.parse(noticeFor(input, 'chat')?.message ?? '{}'));
    expect(notification.metadata?.threadId).toBe(thread);
    // The release's own id stays where a person looks for it.
    expect(notification.content.description).toContain('*Correlation id:* `evt-release`');
  });

  it('a release that failed for one of two names asks to release that one again', () => {
    const input = result({
      trigger: 'release',
      status: 'partial-failure',
      users: ['alice', 'bob'],
      quarantine: [
        { username: 'alice', outcome: 'released' },
        { username: 'bob', outcome: 'failed', error: 'table unreachable' },
      ],
      endpoints: [],
      outcomes: [],
    });
    const { nextSteps = [] } = customNotification.parse(
      JSON.parse(noticeFor(input, 'chat')?.message ?? '{}'),
    ).content;
    expect(nextSteps.filter((step) => step.startsWith('Release again'))).toEqual([
      `Release again: \`cvpn-evict quarantine release 'bob' --reason '...' --table "$TABLE"\``,
    ]);
  });

  it('a description past its limit is cut between code spans, never inside one, wherever the limit falls', () => {
    // Ten names of 290 to 330 characters make a line of users past 3,000 characters, so the limit falls inside a
    // name, on its backtick, between two names, and inside the label of the line that follows, as the length moves.
    for (let length = 290; length <= 330; length++) {
      const users = Array.from({ length: 10 }, (_, i) => `${String(i).repeat(length - 12)}@example.com`);
      const chat = noticeFor(result({ users, quarantine: [] }), 'chat');
      const { description } = customNotification.parse(JSON.parse(chat?.message ?? '{}')).content;
      expect(description.length).toBeLessThanOrEqual(DESCRIPTION_LIMIT);
      expect(description.endsWith('...')).toBe(true);
      const kept = description.slice(0, -3);
      // Every span closes, and every one it shows is a whole value: a name, the endpoint, the correlation id.
      expect(kept.split('`').length % 2).toBe(1);
      const spans = [...kept.matchAll(/`([^`]*)`/g)].map((m) => m[1]);
      expect(spans.length).toBeGreaterThan(0);
      for (const span of spans) expect([...users, ENDPOINT_A, 'finding-7f3a']).toContain(span);
      // No bold label left open either.
      expect(kept.replace(/`[^`]*`/g, '').split('*').length % 2).toBe(1);
    }
  });

  it('the handler publishes the chat form when noticeFormat is chat', async () => {
    const api = new FakeClientVpnApi([conn(ENDPOINT_A, 'alice')]);
    const { logger, metrics } = recorders();
    const published: Array<{ subject: string; message: string }> = [];
    const notifier = {
      publish: async (subject: string, message: string) => void published.push({ subject, message }),
    };
    const config = testConfig({ NOTICE_FORMAT: 'chat' });
    const handler = createEvictorHandler({ config, api, logger, metrics, notifier });
    await handler(customEvent('Evict VPN User', { usernames: ['alice'], reason: 'INC-1' }));
    expect(published).toHaveLength(1);
    const notification = customNotification.parse(JSON.parse(published[0]?.message ?? '{}'));
    expect(notification.content.title).toBe('VPN ENFORCING: evict: 1 connections terminated');
    expect(notification.content.description).toContain('*Users:* `alice`');
  });
});

describe('the last round of a multi-round eviction says who was released meanwhile and who was evicted earlier', () => {
  // Round 2 of alice, bob and dana: alice was ended in round 1; the SOC released bob while the rounds went on.
  const lastRound = (overrides: Partial<EvictionResult>) =>
    result({
      round: 2,
      evictedEarlier: ['alice@example.com'],
      endedEarlier: 1,
      releasedMeanwhile: ['bob'],
      users: [],
      quarantine: [{ username: 'bob', outcome: 'released-meanwhile' }],
      outcomes: [],
      ...overrides,
    });
  it.each([
    {
      label: 'completed',
      input: lastRound({ endpoints: [endpoint(ENDPOINT_A)] }),
      headline: 'guardduty (round 2): RELEASED MEANWHILE: bob; 1 terminated',
    },
    {
      label: 'not-connected',
      input: lastRound({
        status: 'not-connected',
        notConnected: ['dana'],
        endpoints: [endpoint(ENDPOINT_A)],
      }),
      headline: 'guardduty (round 2): NOT CONNECTED: dana; RELEASED MEANWHILE: bob; 1 terminated',
    },
    {
      label: 'partial-failure',
      input: lastRound({
        status: 'partial-failure',
        users: ['carol'],
        endpoints: [endpoint(ENDPOINT_A, { failed: 1 })],
        outcomes: [failedOutcome('carol', true)],
      }),
      headline: 'guardduty (round 2): FAILED: 1 not terminated; RELEASED MEANWHILE: bob; 1 terminated',
    },
    {
      label: 'failed',
      input: lastRound({
        status: 'failed',
        endpoints: [endpoint(ENDPOINT_A, { error: 'UnauthorizedOperation', errorKind: 'permanent' })],
      }),
      headline: 'guardduty (round 2): FAILED: 1 endpoint not listed; RELEASED MEANWHILE: bob; 1 terminated',
    },
    {
      label: 'refused',
      input: lastRound({ status: 'refused', refusal: 'ambiguous: x', endpoints: [] }),
      headline: 'guardduty (round 2): REFUSED, nobody evicted: ambiguous: x; RELEASED MEANWHILE: bob',
    },
  ])('$label: both forms name bob as released and alice as evicted', ({ input, headline }) => {
    const text = noticeFor(input, 'text');
    // SNS refuses a subject over 100 characters; the chat title holds the whole headline.
    const full = `[client-vpn-evictor ENFORCING] ${headline}`;
    expect(text?.subject).toBe(full.length > 100 ? `${full.slice(0, 97)}...` : full);
    expect(JSON.parse(text?.message ?? '{}')).toMatchObject({
      releasedMeanwhile: ['bob'],
      evictedEarlier: ['alice@example.com'],
    });
    const chat = customNotification.parse(JSON.parse(noticeFor(input, 'chat')?.message ?? '{}'));
    expect(chat.content.title).toBe(`:rotating_light: VPN ENFORCING: ${headline}`);
    const lines = chat.content.description.split('\n');
    expect(lines).toContain('*Released meanwhile:* `bob`');
    expect(lines).toContain('*Evicted in earlier rounds:* `alice@example.com`');
    const users = lines.find((line) => line.startsWith('*Users:*'));
    expect(users).toContain('`alice@example.com`');
    expect(users).not.toContain('`bob`');
  });
});
