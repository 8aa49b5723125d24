import { distinctNames, foldCase } from './identity';
import type { EvictionResult } from './result';
import { SETTINGS } from './settings';

/**
 * A notice in the custom notification schema of Amazon Q Developer in chat applications (formerly AWS Chatbot), which
 * relays an SNS message to Slack or Microsoft Teams only in this shape and drops any other
 * (https://docs.aws.amazon.com/chatbot/latest/adminguide/custom-notifs.html). `client-markdown` is the one text type:
 * the service renders it in the chat platform's own markdown.
 */
export interface ChatNotification {
  version: '1.0';
  source: 'custom';
  content: {
    textType: 'client-markdown';
    title: string;
    description: string;
    nextSteps: string[];
    keywords: string[];
  };
  metadata: {
    /**
     * The correlation id: every round of one request lands in one thread, and a release that lifts the quarantine of
     * one request (one entry, or several it wrote) lands in that request's.
     */
    threadId: string;
    summary: string;
    eventType: string;
    additionalContext: Record<string, string>;
  };
}

/** What the notice leads with, from notice.ts, which decides whether to send one at all. */
export interface ChatHeadline {
  /** The trigger and round, then what needs a person first: `guardduty: FAILED: 1 not terminated; 4 terminated`. */
  headline: string;
  /** Something a person should act on: a failure, a refusal, a named user not connected, a protected user kept. */
  needsAPerson: boolean;
}

/**
 * Slack shows at most 3,000 characters of a text block, and a mass disconnect can name thousands: lists stop at
 * LISTED entries and say how many more there are, and the description stops at DESCRIPTION_LIMIT.
 */
const DESCRIPTION_LIMIT = 3_000;
const TITLE_LIMIT = 250;
/** The reason a command repeats, at most 100 characters, never cutting a character in two (an emoji's halves). */
const reasonInCommand = (reason: string) => Array.from(reason).slice(0, 100).join('');

const LISTED = 10;

/**
 * Names come from events and from EC2: in a code span they cannot turn into formatting, and without angle brackets
 * they cannot become a Slack mention (`<!channel>`) or a link.
 */
export const inCode = (text: string) => `\`${text.replace(/[`<>]/g, "'")}\``;
/**
 * An argument in a shell command a person may copy, inside a code span: single-quoted, so nothing in it is
 * expanded, and without backticks, which would close the span and let the rest of a name render as markdown (where
 * a renderer's backslash escapes would undo the quoting).
 */
const shellWord = (text: string) => `'${text.replace(/[`<>]/g, '').replace(/'/g, `'\\''`)}'`;
/** A title or summary, which chat renders as markdown: no character in it may format, link or mention. */
const plain = (text: string) => text.replace(/[`*_~[\]<>]/g, "'");

const cut = (text: string, limit: number) => (text.length > limit ? `${text.slice(0, limit - 3)}...` : text);

/**
 * Markdown cut to `limit` (its `...` included) at the last place outside every code span and bold label, so that no
 * span is left open: an open one would set the rest as code, or show its backtick, and a cut name would read as a
 * whole one. Spans hold no backtick of their own (`inCode`), so the backticks before a place say whether it is inside.
 */
function cutMarkdown(text: string, limit: number): string {
  if (text.length <= limit) return text;
  let cutAt = 0;
  let inSpan = false;
  let inBold = false;
  for (let i = 0; i <= limit - 3; i++) {
    if (!inSpan && !inBold) cutAt = i;
    if (text[i] === '`') inSpan = !inSpan;
    else if (text[i] === '*' && !inSpan) inBold = !inBold;
  }
  return `${text.slice(0, cutAt).trimEnd()}...`;
}

function listed(items: readonly string[], show: (item: string) => string = inCode): string {
  const more = items.length - LISTED;
  return `${items.slice(0, LISTED).map(show).join(', ')}${more > 0 ? ` and ${more} more` : ''}`;
}

/**
 * The people the eviction is about, in every round up to this one; not those a release took out of it meanwhile,
 * whom a line of their own names.
 */
const usersOf = (result: EvictionResult) => {
  const released = new Set((result.releasedMeanwhile ?? []).map(foldCase));
  return distinctNames([
    ...(result.evictedEarlier ?? []),
    ...result.users,
    ...result.quarantine.map((q) => q.username),
    ...result.outcomes.filter((o) => o.status === 'failed').map((o) => o.username),
  ]).filter((name) => !released.has(foldCase(name)));
};

/** The first LISTED endpoints as options: a command, like a list, names ten. */
const endpointOptions = (ids: readonly string[]) =>
  ids
    .slice(0, LISTED)
    .map((id) => `--endpoint-id ${id}`)
    .join(' ');

/**
 * The command that ends by hand what a round could not: the users whose Terminate call failed, on the endpoints where
 * it failed (those it ended are gone, and a mass disconnect names thousands). `cvpn-evict evict` refuses more users
 * than `--max-users`, so the command raises it when it names more than the default. With `--table` it quarantines
 * them as a security eviction does; the end of the day keeps nobody out, so a disconnect-all's command has none.
 * It names the first ten, and fewer when ten long names would not fit in a step: a command is whole or not shown.
 */
function evictWhatIsLeft(result: EvictionResult): string | undefined {
  const failed = result.outcomes.filter((o) => o.status === 'failed' && o.username !== '');
  const left = distinctNames(failed.map((o) => o.username));
  if (left.length === 0) return undefined;
  const endpointIds = [...new Set(failed.map((o) => o.endpointId))];
  const table = result.trigger === 'disconnect-all' ? '' : ' --table "$TABLE"';
  const step = (count: number) => {
    const named = left.slice(0, count);
    const maxUsers = count > SETTINGS.maxUsersPerEvent.default ? ` --max-users ${count}` : '';
    const over = [
      ...(count < left.length ? [`the first ${count} of ${left.length} users`] : []),
      ...(endpointIds.length > LISTED ? [`the first ${LISTED} of ${endpointIds.length} endpoints`] : []),
    ];
    const rest = over.length > 0 ? ` (${over.join(' and ')}; the query below names the rest)` : '';
    return `Evict what is left by hand${rest}: \`cvpn-evict evict ${named.map(shellWord).join(' ')}${maxUsers} ${endpointOptions(endpointIds)} --reason ${shellWord(reasonInCommand(result.reason))}${table}\``;
  };
  let count = Math.min(left.length, LISTED);
  while (count > 1 && step(count).length > DESCRIPTION_LIMIT) count--;
  return step(count);
}

/** What a person does next, each a command to run: the CLI on the operator's credentials, `$TABLE` the stack's table. */
function nextSteps(result: EvictionResult): string[] {
  const endpoints = endpointOptions(result.endpoints.map((e) => e.endpointId));
  const steps: string[] = [];
  if (result.trigger === 'release') {
    const released = result.quarantine.filter((q) => q.outcome === 'released').map((q) => q.username);
    const failed = result.quarantine.filter((q) => q.outcome === 'failed').map((q) => q.username);
    if (failed.length > 0)
      steps.push(
        `Release again: \`cvpn-evict quarantine release ${failed.slice(0, LISTED).map(shellWord).join(' ')} --reason '...' --table "$TABLE"\``,
      );
    if (released.length > 0)
      steps.push(
        `If this release was not expected, keep them out again: \`cvpn-evict quarantine add ${released.slice(0, LISTED).map(shellWord).join(' ')} --minutes 60 --reason '...' --table "$TABLE"\``,
      );
    steps.push('See who is kept out: `cvpn-evict quarantine list --table "$TABLE"`');
  } else if (result.trigger === 'sweep') {
    steps.push(`See what the next sweep would end: \`cvpn-evict sessions ${endpoints} --table "$TABLE"\``);
  } else if (result.status === 'refused') {
    steps.push(
      `Evict the right person by VPN username: \`cvpn-evict evict USERNAME ${endpoints} --reason ${shellWord(reasonInCommand(result.reason))} --table "$TABLE"\``,
    );
  } else if (result.heldBack) {
    const answering = result.endpoints
      .filter((e) => !result.heldBack?.unlisted.includes(e.endpointId))
      .map((e) => `--endpoint-id ${e.endpointId}`)
      .join(' ');
    steps.push(
      `Evict by exact VPN username on the endpoints that answer: \`cvpn-evict evict ${result.heldBack.candidates.slice(0, LISTED).map(shellWord).join(' ')} ${answering} --reason ${shellWord(reasonInCommand(result.reason))} --table "$TABLE"\``,
    );
  } else {
    const evict = evictWhatIsLeft(result);
    if (evict) steps.push(evict);
    if (result.trigger !== 'disconnect-all')
      steps.push(`See who is still connected: \`cvpn-evict connections ${endpoints}\``);
    const written = result.quarantine
      .filter((q) => q.outcome === 'written' || q.outcome === 'kept-longer')
      .map((q) => q.username);
    if (written.length > 0)
      steps.push(
        `If this was a false positive, let them back in: \`cvpn-evict quarantine release ${written.slice(0, LISTED).map(shellWord).join(' ')} --reason '...' --table "$TABLE"\``,
      );
  }
  steps.push(
    `Everything it did: the saved Logs Insights query *correlation-id* with ${inCode(result.correlationId)}`,
  );
  // Ten names of 256 characters make a long command: a step stops where a description does, never inside its span.
  return steps.map((step) => cutMarkdown(step, DESCRIPTION_LIMIT));
}

/** The thread a notice goes to: its own request's, or for a release, the one request whose quarantine it lifted. */
function threadOf(result: EvictionResult): string {
  if (result.trigger !== 'release') return result.correlationId;
  const lifted = new Set(
    result.quarantine
      .filter((q) => q.outcome === 'released' || q.outcome === 'would-release')
      .flatMap((q) => q.quarantineCorrelationId ?? []),
  );
  const [only] = lifted;
  return lifted.size === 1 && only !== undefined ? only : result.correlationId;
}

/**
 * The chat form of a notice: the title leads with what needs a person, the description names the users, the
 * endpoints and the correlation id, and the next steps are commands to run. The subject and the JSON summary stay the
 * e-mail form's (`noticeFormat` chooses).
 */
export function chatNotification(
  result: EvictionResult,
  { headline, needsAPerson }: ChatHeadline,
): ChatNotification {
  const users = usersOf(result);
  const endpointLine = (e: EvictionResult['endpoints'][number]) =>
    `${inCode(e.endpointId)}: ${[
      `${result.mode === 'DRY-RUN' ? e.wouldTerminate : e.terminated} ${result.mode === 'DRY-RUN' ? 'would be terminated' : 'terminated'}`,
      ...(e.failed > 0 ? [`${e.failed} failed`] : []),
      ...(e.skipped > 0 ? [`${e.skipped} kept`] : []),
      ...(e.error !== undefined ? [`not listed: ${inCode(cut(e.error, 200))}`] : []),
    ].join(', ')}`;
  const lines = [
    ...(needsAPerson ? [`*Needs a person:* ${inCode(headline)}`] : []),
    ...(result.refusal ? [`*Refused:* ${inCode(cut(result.refusal, 500))}`] : []),
    `*Users:* ${users.length > 0 ? listed(users) : 'none'}`,
    ...(result.notConnected.length > 0 ? [`*Not connected:* ${listed(result.notConnected)}`] : []),
    ...(result.releasedMeanwhile?.length
      ? [`*Released meanwhile:* ${listed(result.releasedMeanwhile)}`]
      : []),
    ...(result.evictedEarlier?.length
      ? [`*Evicted in earlier rounds:* ${listed(result.evictedEarlier)}`]
      : []),
    ...(result.endpoints.length > 0
      ? ['*Endpoints:*', ...result.endpoints.slice(0, LISTED).map((e) => `• ${endpointLine(e)}`)]
      : []),
    ...(result.endpoints.length > LISTED ? [`• and ${result.endpoints.length - LISTED} more`] : []),
    ...(result.quarantine.length > 0
      ? [
          `*Quarantine:* ${listed(
            result.quarantine.map((q) => `${q.username} ${q.outcome}${q.until ? ` until ${q.until}` : ''}`),
          )}`,
        ]
      : []),
    `*Correlation id:* ${inCode(result.correlationId)}`,
    `*Reason:* ${inCode(cut(result.reason, 300))}`,
    `*Mode:* ${result.mode}, round ${result.round}, status ${result.status}`,
    ...(result.notes.length > 0 ? [`*Notes:* ${listed(result.notes.map((n) => cut(n, 200)))}`] : []),
  ];
  return {
    version: '1.0',
    source: 'custom',
    content: {
      textType: 'client-markdown',
      title: cut(
        `${needsAPerson ? ':rotating_light: ' : ''}VPN ${result.mode}: ${plain(headline)}`,
        TITLE_LIMIT,
      ),
      description: cutMarkdown(lines.join('\n'), DESCRIPTION_LIMIT),
      nextSteps: nextSteps(result),
      keywords: [result.mode, result.trigger, result.status],
    },
    metadata: {
      threadId: threadOf(result),
      summary: cut(plain(headline), TITLE_LIMIT),
      eventType: `client-vpn-evictor/${result.trigger}`,
      additionalContext: {
        correlationId: result.correlationId,
        mode: result.mode,
        trigger: result.trigger,
        status: result.status,
      },
    },
  };
}
