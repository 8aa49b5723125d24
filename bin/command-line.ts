import { parseArgs } from 'node:util';

export const USAGE = `usage: cvpn-evict <command> [options]

commands:
  connections                 active connections per endpoint
  evict <user...>             terminate every connection of these VPN users (and quarantine them, with --table)
  disconnect-all              terminate every active connection (asks first); never quarantines
  offboard <user...>          a leaver: terminate every connection on every endpoint, quarantine until released,
                              notify (--topic-arn); needs --reason and --table
  quarantine list             the active quarantine entries, open-ended ones first
  quarantine add <user...>    keep these VPN users out for --minutes
  quarantine release <user...> [--common-name <cn>...]
                              let these VPN users (and certificates) back in
  access-hours                whether the access window is open, and when it next opens and closes
  crl import <file>           import your CA's certificate revocation list (PEM) into every endpoint; resets
                              their connections, so it asks first (--yes); never signs one
  report                      the quarantine table since --since: active, open-ended, released and expired
                              entries, with who and why
  sessions                    each connection's age and how long its counters have been still, and which ones
                              the next session sweep would end (it ends nothing)

options:
  --endpoint-id <id>          a Client VPN endpoint (repeatable, at least one; EC2 commands; offboard and crl
                              import: default every one of the endpointIds key in ./cdk.json); one in another
                              Region than --region is <Region>:cvpn-endpoint-..., as in the endpointIds key
  --region <region>           the stack's own Region: where the endpoints without a Region are, and where the
                              quarantine table is read (default: AWS_REGION / your profile)
  --profile <name>            AWS profile
  --endpoint-url <url>        EC2 endpoint, e.g. the local emulator http://127.0.0.1:8499
  --dry-run                   read for real, change nothing, report what would change
  --except <user>             disconnect-all: leave this user connected (repeatable)
  --protected <user>          never terminate or quarantine this user (repeatable; replaces the protectedUsers
                              key in ./cdk.json, which applies otherwise; --protected '' protects nobody)
  --identity <name>           evict: also the person behind this name from another tool (an IAM user, a session
                              name), resolved as for a finding: the same name, else the one VPN user with its
                              local part (repeatable; evict then needs no <user>)
  --username-match <rule>     how --identity resolves: local-part (default) or exact, as the usernameMatch key
  --max-users <n>             evict refuses more users than this (default 5)
  --ec2-budget-share <0.05..1>
                              evict, disconnect-all: the share of EC2's budget for mutating calls that the
                              Terminate calls are paced to (default 0.6, as the ec2BudgetShare context key)
  --reason <text>             recorded with the eviction or the quarantine (offboard: required)
  --common-name <cn>          offboard, quarantine release: a certificate's CommonName, matched and quarantined as
                              the certificate whatever matchCommonName says (repeatable; offboard then needs no
                              <user>)
  --topic-arn <arn>           offboard: publish the notice to this SNS topic (the stack's NotificationTopicArn)
  --table <name>              the quarantine table: the stack's QuarantineTableName output (sessions: read the
                              sweep state kept there)
  --quarantine-minutes <n>    evict: how long the evicted stay out (default 60, 0 = none; needs --table)
  --minutes <n>               quarantine add: how long (1 to 43200)
  --access-hours <json>       access-hours: the setting (default: the accessHours key in ./cdk.json)
  --at <instant>              access-hours: an ISO 8601 instant with its offset (default: now)
  --sessions <json>           sessions: the setting (default: the sessions key in ./cdk.json)
  --since <period>            report: 24h (default), 90m, 7d, or an ISO 8601 instant with its offset
  --interval <seconds>        sessions without --table: how far apart its two listings are (default 90)
  --json                      machine-readable output
  --yes                       do not ask before disconnect-all or crl import (required when stdin is not a
                              terminal)

AWS_ENDPOINT_URL_EC2 and AWS_ENDPOINT_URL_DYNAMODB point the SDK at local endpoints (the emulator, dynalite);
a loopback endpoint needs no AWS credentials.

exit codes: 0 done, 1 partial failure or refused, 2 usage or configuration error,
            3 done, but a named user had no active connection`;

export const EXIT = { done: 0, partial: 1, usage: 2, notConnected: 3 } as const;

/** The command line is wrong: exit 2 with the message, nothing touched. */
export class UsageError extends Error {}

export function parseCommandLine(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        'endpoint-id': { type: 'string', multiple: true, default: [] },
        region: { type: 'string' },
        profile: { type: 'string' },
        'endpoint-url': { type: 'string' },
        'dry-run': { type: 'boolean', default: false },
        except: { type: 'string', multiple: true, default: [] },
        protected: { type: 'string', multiple: true },
        identity: { type: 'string', multiple: true, default: [] },
        'username-match': { type: 'string' },
        'max-users': { type: 'string' },
        'ec2-budget-share': { type: 'string' },
        reason: { type: 'string' },
        'common-name': { type: 'string', multiple: true, default: [] },
        'topic-arn': { type: 'string' },
        table: { type: 'string' },
        'quarantine-minutes': { type: 'string' },
        minutes: { type: 'string' },
        'access-hours': { type: 'string' },
        at: { type: 'string' },
        sessions: { type: 'string' },
        interval: { type: 'string' },
        since: { type: 'string' },
        json: { type: 'boolean', default: false },
        yes: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

export type Options = ReturnType<typeof parseCommandLine>['values'];

/** Who runs the CLI, for the records it writes. */
export const operator = (): string => process.env.USER ?? 'an operator';

/** The reason recorded when the operator gives none: the command and who ran it. */
export const defaultReason = (command: string): string => `cvpn-evict ${command} by ${operator()}`;
