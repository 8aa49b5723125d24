import type { IdentityCandidate } from './types';

/**
 * Who the access key in a finding stands for: the one rule for GuardDuty's `accessKeyDetails` and for the
 * `AwsIamAccessKey` resource Security Hub carries the same finding in (`PrincipalType`, `PrincipalName`,
 * `PrincipalId` are GuardDuty's `userType`, `userName`, `principalId`), so the two routes can never disagree about
 * a person.
 */
export interface AccessKeyPrincipal {
  type?: string;
  name?: string;
  principalId?: string;
}

/** The fields' names as the finding spells them, for the notes: `accessKeyDetails.userName`. */
export interface PrincipalFieldNames {
  type: string;
  name: string;
  principalId: string;
}

/**
 * The prefix of every role IAM Identity Center creates for a permission set (`AWSReservedSSO_<permission set>_<id>`),
 * whose sessions AWS names after the person who signed in. IAM lets nobody else modify these roles.
 */
export const IDENTITY_CENTER_ROLE_PREFIX = 'AWSReservedSSO_';

/**
 * An IAM user is its user name. An assumed role or a federated user is the session name after ":" in the principal
 * id, but only an IAM Identity Center session (its role, in the name field, is `AWSReservedSSO_...`) says who
 * the person is: AWS sets that session name to the person's sign-in. Any other session's name is whatever the
 * caller of AssumeRole or GetFederationToken chose (anyone allowed to assume a role can call their session
 * "alice"), so it is a `chosen-session`, which only the identity map can resolve. Root and AWS services name
 * nobody, and neither does a key whose type is not given.
 */
export function accessKeyIdentities(
  key: AccessKeyPrincipal | undefined,
  fields: PrincipalFieldNames,
): { candidates: IdentityCandidate[]; notes: string[] } {
  const candidates: IdentityCandidate[] = [];
  const notes: string[] = [];
  if (!key?.type) return { candidates, notes };
  const sessionName = key.principalId?.includes(':')
    ? key.principalId.slice(key.principalId.indexOf(':') + 1)
    : '';
  switch (key.type) {
    case 'IAMUser':
      if (key.name) candidates.push({ kind: 'iam-user', value: key.name, source: fields.name });
      break;
    case 'AssumedRole':
    case 'FederatedUser':
      if (!sessionName) notes.push(`${key.type} principalId "${key.principalId ?? ''}" has no session name`);
      else if (key.type === 'AssumedRole' && key.name?.startsWith(IDENTITY_CENTER_ROLE_PREFIX))
        candidates.push({ kind: 'session', value: sessionName, source: fields.principalId });
      else
        candidates.push({
          kind: 'chosen-session',
          value: sessionName,
          source: fields.principalId,
          principal: key.type === 'AssumedRole' && key.name ? `AssumedRole "${key.name}"` : key.type,
        });
      break;
    default:
      notes.push(`${fields.type} ${key.type} names no person`);
  }
  return { candidates, notes };
}
