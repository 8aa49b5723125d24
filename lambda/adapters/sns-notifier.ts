import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import type { Notifier } from '../core/notice';

export class SnsNotifier implements Notifier {
  constructor(
    private readonly sns: SNSClient,
    private readonly topicArn: string,
  ) {}

  async publish(subject: string, message: string): Promise<void> {
    await this.sns.send(new PublishCommand({ TopicArn: this.topicArn, Subject: subject, Message: message }));
  }
}

export const createSnsClient = () => new SNSClient({});
