import { Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * CDK's grant to use a KMS key names `kms:GenerateDataKey*` and `kms:ReEncrypt*`; the resource is one of this stack's
 * own keys, so the wildcards are in the action names only.
 */
export function acknowledgeKeyGrant(role: IConstruct, purpose: string): void {
  for (const action of ['kms:GenerateDataKey*', 'kms:ReEncrypt*']) {
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Action::${action}]`,
      reason: `${action} on this stack's own key only (the resource is a key ARN): CDK's grant for ${purpose}.`,
    });
  }
}
