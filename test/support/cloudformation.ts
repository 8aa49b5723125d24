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
  /** Every answer received, in order. */
  responses: CustomResourceResponse[];
  close(): Promise<void>;
}

/** A local "presigned URL" that records each answer a custom resource's function gives CloudFormation. */
export async function startCloudFormationStandIn(): Promise<CloudFormationStandIn> {
  const responses: CustomResourceResponse[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => {
      body += chunk;
    });
    req.on('end', () => {
      responses.push(JSON.parse(body));
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/response`,
    responses,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
