import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface PublishedNotice {
  topicArn: string;
  subject: string;
  message: string;
}

/**
 * A stand-in for SNS's Publish, for the bundle's real `@aws-sdk/client-sns` to send to over the wire
 * (`AWS_ENDPOINT_URL_SNS`): it keeps each notice and answers as SNS's query API does.
 */
export async function startSnsStandIn() {
  const published: PublishedNotice[] = [];
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => {
      body += chunk.toString();
    });
    request.on('end', () => {
      const form = new URLSearchParams(body);
      if (form.get('Action') !== 'Publish') {
        response.writeHead(400).end();
        return;
      }
      published.push({
        topicArn: form.get('TopicArn') ?? '',
        subject: form.get('Subject') ?? '',
        message: form.get('Message') ?? '',
      });
      response.writeHead(200, { 'content-type': 'text/xml' });
      response.end(
        `<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>notice-${published.length}</MessageId></PublishResult><ResponseMetadata><RequestId>request-${published.length}</RequestId></ResponseMetadata></PublishResponse>`,
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    published,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
