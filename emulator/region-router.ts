import { createServer, type IncomingMessage, request, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { signedRegionOf } from './http';

export interface RunningRegionRouter {
  readonly url: string;
  /** From now on, requests for `region` find nobody there: the connection drops, as when a Region is cut off. */
  cutOff(region: string): void;
  reconnect(region: string): void;
  close(): Promise<void>;
}

/**
 * One local address for the emulators of several Regions, since `AWS_ENDPOINT_URL_EC2` (and `_LAMBDA`) is one URL:
 * the SDK's client for a Region signs each request for it (SigV4's credential scope), and the router sends the
 * request to that Region's emulator, as DNS sends `ec2.<Region>.amazonaws.com` to EC2 there. Requests without a
 * signature (the admin API) go to the first Region's. Nothing in the functions or the CLI knows it is there.
 */
export async function startRegionRouter(emulators: Record<string, string>): Promise<RunningRegionRouter> {
  const [first] = Object.keys(emulators);
  const cut = new Set<string>();
  const forward = (req: IncomingMessage, res: ServerResponse) => {
    const region = signedRegionOf(req) ?? first ?? '';
    const target = emulators[region];
    if (target === undefined || cut.has(region)) {
      req.socket.destroy();
      return;
    }
    const upstream = request(
      new URL(req.url ?? '/', target),
      { method: req.method, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => req.socket.destroy());
    req.pipe(upstream);
  };
  const server = createServer(forward);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    cutOff: (region) => void cut.add(region),
    reconnect: (region) => void cut.delete(region),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
