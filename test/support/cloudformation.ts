import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What a custom resource's function answered CloudFormation. */
export interface CustomResourceResponse {
  Status: 'SUCCESS' | 'FAILED';
  Reason: string;
  PhysicalResourceId: string;
  RequestId: string;
  LogicalResourceId: string;
  Data?: Record<string, string>;
}

export interface CloudFormationStandIn {
  /** Where a custom resource event's ResponseURL points. */
  url: string;
  /** Every answer received and accepted, in order. */
  responses: CustomResourceResponse[];
  /** Every answer refused (see `refuseNext`), in order. */
  refused: CustomResourceResponse[];
  /** The next `count` answers get HTTP 500, as a PUT to S3 can fail, and are not accepted. */
  refuseNext(count: number): void;
  close(): Promise<void>;
}

/**
 * A local "presigned URL" that records each answer a custom resource's function gives CloudFormation, and can
 * refuse some.
 */
export async function startCloudFormationStandIn(): Promise<CloudFormationStandIn> {
  const responses: CustomResourceResponse[] = [];
  const refused: CustomResourceResponse[] = [];
  let toRefuse = 0;
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => {
      body += chunk;
    });
    req.on('end', () => {
      if (toRefuse > 0) {
        toRefuse -= 1;
        refused.push(JSON.parse(body));
        res.writeHead(500).end();
        return;
      }
      responses.push(JSON.parse(body));
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/response`,
    responses,
    refused,
    refuseNext: (count) => {
      toRefuse = count;
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
