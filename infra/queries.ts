import { Stack } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { ALLOWING_RULES } from '../lambda/core/connect';

/** Which function's log group a query reads. */
export type QueryLogs = 'evictor' | 'connect';

export interface SavedQuery {
  /** Its name under the stack's folder in Logs Insights: `<stackName>/<name>`. */
  name: string;
  /** The question it answers, for the docs. */
  question: string;
  logs: readonly QueryLogs[];
  /**
   * Over the functions' audit lines (Powertools JSON: `message`, `correlation_id`, and the fields each line adds). A
   * placeholder in capitals (USERNAME, CORRELATION_ID) is for the reader to replace.
   */
  query: logs.QueryStringProps;
}

/**
 * The questions people ask of the audit lines. Time ranges are chosen in the console (a saved query keeps none): pick
 * the last 24 hours for the first. The evictor's lines carry `trigger`, `mode` and the request's `reason` on every
 * line of an invocation; a connect decision names the quarantine's correlation id in its `detail`.
 */
export const SAVED_QUERIES: readonly SavedQuery[] = [
  {
    name: 'evicted',
    question: 'Who was evicted in the last 24 hours, and why?',
    logs: ['evictor'],
    query: {
      fields: ['@timestamp', 'username', 'endpointId', 'trigger', 'reason', 'correlation_id'],
      // A disconnect-all or a sweep ends sessions, it evicts nobody: their lines say so under their own trigger.
      filterStatements: [
        'message = "connection" and status = "terminated" and trigger != "sweep" and trigger != "disconnect-all"',
      ],
      sort: '@timestamp desc',
      limit: 1000,
    },
  },
  {
    name: 'one-user',
    question: 'Every action on one user: evictions, quarantines, releases, connects allowed and denied.',
    logs: ['evictor', 'connect'],
    query: {
      fields: [
        '@timestamp',
        'username',
        'message',
        'trigger',
        'status',
        'outcome',
        'rule',
        'endpointId',
        'correlation_id',
      ],
      // The whole name, ignoring case (VPN clients report what the user typed): a part of a name matches nobody, so
      // the answer is one user's lines, never also those of a name that contains it.
      filterStatements: [
        'tolower(username) = tolower("USERNAME") or tolower(commonName) = tolower("USERNAME")',
      ],
      sort: '@timestamp desc',
      limit: 1000,
    },
  },
  {
    name: 'denied-by-rule',
    question: 'Connects denied (or that would be, in a dry run), by rule.',
    logs: ['connect'],
    query: {
      // Every rule but those that let a connection in: the handler's own list, so a new denying rule is counted too.
      filterStatements: [
        `message = "connect decision" and ${ALLOWING_RULES.map((rule) => `rule != "${rule}"`).join(' and ')}`,
      ],
      statsStatements: ['count(*) as connects by rule, mode'],
      sort: 'connects desc',
    },
  },
  {
    name: 'releases',
    question:
      'Releases made by events, and who made them: the source, the person the event names, and the reason it gave.',
    logs: ['evictor'],
    query: {
      fields: ['@timestamp', 'username', 'outcome', 'releasedBy', 'reason', 'correlation_id'],
      filterStatements: ['message = "quarantine" and trigger = "release"'],
      sort: '@timestamp desc',
      limit: 1000,
    },
  },
  {
    name: 'correlation-id',
    question:
      'What one correlation id did: every line of the request, and the reconnects its quarantine denied.',
    logs: ['evictor', 'connect'],
    query: {
      fields: ['@timestamp', 'message', 'trigger', 'status', 'username', 'endpointId', 'outcome', 'rule'],
      filterStatements: ['correlation_id = "CORRELATION_ID" or detail like /CORRELATION_ID/'],
      sort: '@timestamp asc',
      limit: 1000,
    },
  },
];

/**
 * The saved queries over the log groups a stack has: all of them in the home stack, the connect handler's alone in
 * a Region's own stack.
 */
export function savedQueries(scope: Construct, logGroups: Partial<Record<QueryLogs, logs.ILogGroup>>) {
  const folder = Stack.of(scope).stackName;
  for (const saved of SAVED_QUERIES) {
    const groups = saved.logs.flatMap((which) => logGroups[which] ?? []);
    if (groups.length === 0) continue;
    new logs.QueryDefinition(scope, `Query-${saved.name}`, {
      queryDefinitionName: `${folder}/${saved.name}`,
      queryString: new logs.QueryString(saved.query),
      logGroups: groups,
    });
  }
}
