import type { IncomingMessage, ServerResponse } from 'node:http';

export class BodyTooLarge extends Error {}

export async function readBody(req: IncomingMessage, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    // Keep draining so the client sees an answer rather than a reset socket.
    if (size <= limit) chunks.push(chunk as Buffer);
  }
  if (size > limit) throw new BodyTooLarge();
  return Buffer.concat(chunks).toString('utf8');
}

export function send(
  res: ServerResponse,
  status: number,
  contentType: string,
  body: string,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, {
    'content-type': contentType,
    'content-length': Buffer.byteLength(body),
    ...headers,
  });
  res.end(body);
}

/** The access key in a SigV4 Authorization header stands for the account whose buckets a request drains. */
export function accountOf(req: IncomingMessage): string {
  const match = /Credential=([^/,\s]+)/.exec(req.headers.authorization ?? '');
  return match?.[1] ?? 'anonymous';
}

/** The Region a SigV4 signature is scoped to (`Credential=<key>/<date>/<Region>/<service>/aws4_request`). */
export function signedRegionOf(req: IncomingMessage): string | undefined {
  return /Credential=[^/,\s]+\/\d{8}\/([^/,\s]+)\//.exec(req.headers.authorization ?? '')?.[1];
}
