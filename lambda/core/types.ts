/**
 * The nouns the core's modules share: who a request names, what it asks for, and what happened to each connection
 * and quarantine entry. Types only, importing nothing of the project, so that the modules that make and read these
 * never import one another for a type (biome.json: `noImportCycles`).
 */

export type Mode = 'DRY-RUN' | 'ENFORCING';

/**
 * The account and Region an alert is about, as the finding itself says (GuardDuty's `accountId` and `region`,
 * Security Hub's `AwsAccountId` and its finding ARN), never the bus that carried it: a finding forwarded by the
 * GuardDuty administrator names the member account where the credentials were used.
 */
export interface AlertOrigin {
  account: string;
  region: string;
}

/**
 * An identity a finding names, before the identity map. `session` is an IAM Identity Center session, whose name AWS
 * sets to the person's sign-in; `chosen-session` is any other assumed-role or federated session, whose name the
 * caller chose. Kubernetes and RDS users, and chosen sessions, resolve only through the map.
 */
export interface IdentityCandidate {
  kind: 'iam-user' | 'session' | 'chosen-session' | 'kubernetes' | 'rds';
  value: string;
  /** Where it came from, for the notes: `accessKeyDetails.userName`, `kubernetesUserDetails.username`. */
  source: string;
  /** Whose session it is, for a chosen session's refusal: `AssumedRole "deploy"`, `FederatedUser`. */
  principal?: string;
}
/**
 * `okta`: an event of Okta's System Log, through its log stream. `identity-center`: IAM Identity Center's Identity
 * Store call, as CloudTrail records it.
 */
export type Trigger =
  | 'guardduty'
  | 'evict'
  | 'okta'
  | 'identity-center'
  | 'release'
  | 'disconnect-all'
  | 'sweep';

/** Why the session sweep ends a session. It is not a security eviction: nobody is quarantined. */
export type SessionEndReason = 'idle' | 'over-age';

/**
 * completed: everything planned was done (or would be, in dry-run). not-connected: done, but a user the request
 * named had no active connection on any endpoint in scope (a person should know). continuing: this round ran out
 * of time, or met failures a retry may fix; the rest is handed to a fresh round (`continuation`). failed:
 * something failed for a reason no retry can fix (a missing permission, an unknown endpoint): reported once,
 * not retried. partial-failure: something failed that a retry may fix and no round is left, or the quarantine
 * could not be written; the invocation fails so that it is retried. refused: the policy stopped it before any
 * connection was touched (ambiguous or over the cap). ignored: nothing to do by design (archived finding, below
 * the severity floor, nobody resolved).
 */
export type Status =
  | 'completed'
  | 'not-connected'
  | 'continuing'
  | 'failed'
  | 'partial-failure'
  | 'refused'
  | 'ignored';

/**
 * protected / excepted: kept by configuration or by the event. exempt: kept by the session sweep's exemptions.
 * no-longer-active: gone before the call ended it. reassigned-address: found by a client address, but made after
 * the alert's last activity, so it holds an address Client VPN handed on. released: the entry this eviction wrote
 * for its user was released since, which wins over the eviction's later rounds.
 */
export type SkipReason =
  | 'protected'
  | 'excepted'
  | 'exempt'
  | 'no-longer-active'
  | 'reassigned-address'
  | 'released';

export interface ConnectionRef {
  endpointId: string;
  connectionId: string;
  /** The Username, or the certificate's CommonName for certificate-authenticated connections. */
  username: string;
}

/**
 * One connection's outcome. `answerLost`: the call's answer was lost but EC2 had applied it. `reappeared`: the
 * connection appeared after the first listing (the client reconnected) and was ended by the check that follows
 * the terminations. `transient`: a later retry may succeed; `mayHaveApplied`: the call may have taken effect.
 * From the session sweep: `reason` says why a session was ended; one that failed or was kept says why it was due
 * in `sessionEnd`.
 */
export type Outcome =
  | (ConnectionRef & {
      status: 'terminated';
      previousStatus: string;
      currentStatus: string;
      answerLost?: true;
      reappeared?: true;
      reason?: SessionEndReason;
    })
  | (ConnectionRef & { status: 'would-terminate'; reason?: SessionEndReason })
  | (ConnectionRef & {
      status: 'failed';
      reason: string;
      transient: boolean;
      mayHaveApplied?: true;
      sessionEnd?: SessionEndReason;
    })
  | (ConnectionRef & { status: 'skipped'; reason: SkipReason; sessionEnd?: SessionEndReason });

/** What happened to one quarantine entry: written, kept (a longer one was there), released, or why not. */
export interface QuarantineOutcome {
  username: string;
  /** Set for an entry that names a certificate's CommonName (`offboard --common-name`). */
  kind?: 'common-name';
  /**
   * ISO time the quarantine ends (the one written, or the longer one kept, or the one lifted), or
   * `until-released` for an open-ended one.
   */
  until?: string;
  outcome:
    | 'written'
    | 'kept-longer'
    | 'would-write'
    | 'released'
    | 'would-release'
    | 'not-quarantined'
    /** Released after the eviction began: the release wins, and the person's connections are left alone. */
    | 'released-meanwhile'
    /** Still held after the identity provider reactivated the person: a person may release them. */
    | 'still-quarantined'
    /** Not written: the connect handler always lets a protected user in, so the entry would promise too much. */
    | 'protected'
    | 'failed';
  /**
   * For an entry lifted (or that would be): the correlation id of the request that wrote it, an eviction or
   * `cvpn-evict quarantine add`, so that a release's notice can land in that request's chat thread.
   */
  quarantineCorrelationId?: string;
  /** Why it failed: the store's error, for the audit line. */
  error?: string;
  /** For a failure: whether a retry may write it (a store that does not answer), or never (a table not there). */
  transient?: boolean;
}

/**
 * A name a request acts on. `username`: given as a VPN username (an event's `usernames`, an identity-map value, a
 * CLI argument); it matches a connection whose name is equal ignoring case, and nothing else. `identity`: taken
 * from an alert (an IAM user, a session name); equal ignoring case, else, where `usernameMatch` allows, the one VPN
 * user with the same local part.
 */
export interface NamedUser {
  name: string;
  /**
   * `common-name`: a certificate's CommonName an operator named (`commonNames`); it matches connections whose
   * CommonName is equal ignoring case, whatever `matchCommonName` says, and is quarantined as a certificate.
   */
  match: 'username' | 'identity' | 'common-name';
  /** Where the name came from, for the notes: `usernames`, `accessKeyDetails.principalId`, `identityMap`. */
  source: string;
}

export type Target =
  | {
      kind: 'users';
      names: NamedUser[];
      /** Client addresses from an alert, inside the configured client CIDRs. */
      clientIps: string[];
      /** The alert's last activity (epoch ms): only connections made before it can be behind the activity. */
      lastActivity?: number;
    }
  | { kind: 'everyone'; except: string[] };

/** Who is to be disconnected, where, and how: the one request every front door hands the core. */
export interface EvictionRequest {
  trigger: Exclude<Trigger, 'release' | 'sweep'>;
  correlationId: string;
  reason: string;
  endpointIds: string[];
  dryRun: boolean;
  target: Target;
  /** How long the users it evicts stay out; 0 = no quarantine (Disconnect All, or quarantine turned off). */
  quarantineMinutes: number;
  /** Offboarding: the people it evicts stay out until a release lifts it; `quarantineMinutes` does not apply. */
  untilReleased?: true;
  /**
   * The identity provider reactivated this person: nothing is evicted or released (a person decides); the result
   * and its notice say whether a quarantine still holds them.
   */
  reactivated?: string;
  /**
   * When the quarantine ends (epoch ms), fixed by the first round: every later round writes the same entries for
   * the people it finds, so a user a later round ends is kept out too, and until the same time.
   */
  quarantineUntil?: number;
  /** 1 for a new request; a continuation goes on in round 2, 3, ... up to MAX_ROUNDS. */
  round: number;
  /** People released while the rounds went on, whom the later rounds left alone: the last round reports them. */
  releasedMeanwhile?: string[];
  /** How long this round waits before it starts: the round before met failures a retry may fix. */
  backoffMs?: number;
  /** Rounds before this one that ended nothing, for the cap (MAX_IDLE_ROUNDS). */
  idleRounds?: number;
  /** An earlier round held back for an endpoint it could not list and sent the notice: later held rounds stay silent. */
  heldBackNoticed?: true;
  /** Named users an earlier round found not connected: the last round reports them. */
  notConnected?: string[];
  /** Connections the earlier rounds ended (or would have, in a dry run): the last round's notice counts them. */
  endedEarlier?: number;
  /** People the earlier rounds evicted (or would have, in a dry run): the last round's notice names them. */
  evictedEarlier?: string[];
  /**
   * The quarantine keys the earlier rounds wrote or found held longer: a release of one of them was made after the
   * eviction began, and no later round writes over it, whoever wrote the entry.
   */
  quarantineSeen?: string[];
  /**
   * No round has written the quarantine yet (the rounds before waited for an endpoint they needed): this one writes
   * it for the named users not connected too, as a first round does.
   */
  quarantineDue?: true;
  /** Which account and Region raised the alert behind a security eviction; every result and notice says it. */
  origin?: AlertOrigin;
  /** Filled by the decision when it stops the request before any call: nothing is listed or terminated. */
  halt?: { status: 'ignored' | 'refused'; why: string };
  notes: string[];
}

/** `Release VPN User`: lift the quarantine of these names. */
export interface ReleaseRequest {
  trigger: 'release';
  correlationId: string;
  reason: string;
  usernames: string[];
  /** Certificates' CommonNames: their common-name entries are lifted, never a user's of the same spelling. */
  commonNames?: string[];
  /**
   * Who lifts it, for the entry's record and the audit lines: the event source, followed by the person the event
   * names (`client-vpn-evictor (jdoe)`) when it names one.
   */
  releasedBy: string;
  dryRun: boolean;
  notes: string[];
}

/**
 * The `sessions` setting: which sessions the scheduled sweep ends, and how often it runs (sessions.ts validates
 * it). Client VPN has no idle timeout, and its own maximum session duration comes only in 8, 10, 12 or 24 hours.
 */
export interface SessionsSetting {
  /**
   * End a session whose four traffic counters stayed the same across sweeps spanning this many minutes. At least
   * 10: how often Client VPN refreshes the counters is not documented, and a shorter idle time would risk reading
   * a busy session whose counters were not refreshed yet as idle. No idle limit when unset.
   */
  idleMinutes?: number;
  /** End a session that has lasted this many hours, whatever its traffic. No age limit when unset. */
  maxSessionHours?: number;
  /**
   * How often the sweep runs. At most `idleMinutes`: an idle session ends at most
   * sweepMinutes + ceil(idleMinutes / sweepMinutes) × sweepMinutes after its last traffic (less than two sweeps past
   * `idleMinutes`), plus however late Client VPN refreshes the counters.
   * @default 5
   */
  sweepMinutes: number;
  /**
   * Never ended by the sweep: a session whose Username or certificate CommonName equals an entry ignoring case or
   * shares its local part, as `except` and access-hours exemptions match. Protected users are never ended either.
   * @default []
   */
  exempt: string[];
  /**
   * A sweep that ends more sessions than this sends a notice; otherwise only a sweep that fails does. A dry run,
   * which ends nobody, counts only the sessions that were not due at the last sweep, so that the same idle sessions
   * are not announced every sweep.
   * @default 50
   */
  noticeAbove: number;
}

/** `Sweep VPN Sessions`: end the idle and over-age sessions on these endpoints, under the deployment's setting. */
export interface SweepRequest {
  trigger: 'sweep';
  correlationId: string;
  reason: string;
  endpointIds: string[];
  dryRun: boolean;
  sessions: SessionsSetting;
  notes: string[];
}

/** What the policy decided an event asks for: an eviction (or disconnect), a release, or a session sweep. */
export type DecidedRequest = EvictionRequest | ReleaseRequest | SweepRequest;
