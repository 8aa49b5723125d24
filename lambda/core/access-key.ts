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
 * An IAM user is its user name; an assumed role or a federated user is the session name after ":" in the principal
 * id (IAM Identity Center puts the person there, while the name is the `AWSReservedSSO_...` role); root and AWS
 * services name nobody, and neither does a key whose type is not given.
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
      if (sessionName) candidates.push({ kind: 'session', value: sessionName, source: fields.principalId });
      else notes.push(`${key.type} principalId "${key.principalId ?? ''}" has no session name`);
      break;
    default:
      notes.push(`${fields.type} ${key.type} names no person`);
  }
  return { candidates, notes };
}
