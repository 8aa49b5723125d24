/**
 * The shape of a certificate revocation list as Client VPN imports it: one PEM block `X509 CRL` (RFC 7468) whose
 * base64 body is a DER SEQUENCE of exactly its own length. A shape check, not a signature check: the CA signs the
 * list and Client VPN checks it against the endpoint's CA; nothing here ever signs or reads a key.
 */
const PEM = /^-----BEGIN ([A-Z0-9 ]+)-----\r?\n([A-Za-z0-9+/=\r\n]+?)\r?\n?-----END ([A-Z0-9 ]+)-----$/;
const DER_SEQUENCE = 0x30;

/** Why `text` is not a PEM CRL (never quoting the text, which might be a key), or undefined when it is one. */
export function revocationListProblem(text: string): string | undefined {
  const trimmed = text.trim();
  if (trimmed === '') return 'it is empty';
  const blocks = trimmed.match(/-----BEGIN [A-Z0-9 ]+-----/g) ?? [];
  if (blocks.length === 0)
    return 'it is not PEM (no "-----BEGIN X509 CRL-----" line); convert a DER CRL with openssl crl -inform DER -outform PEM';
  if (blocks.length > 1) return `it holds ${blocks.length} PEM blocks; give one X509 CRL`;
  const pem = PEM.exec(trimmed);
  if (!pem) return 'its PEM block is malformed (a BEGIN line, base64 lines, a matching END line)';
  const [, begin, body, end] = pem as unknown as [string, string, string, string];
  if (begin !== 'X509 CRL') return `it is a PEM "${begin}", not an "X509 CRL"`;
  if (end !== begin) return `its BEGIN ${begin} ends with END ${end}`;
  const der = Buffer.from(body.replace(/\s/g, ''), 'base64');
  if (der[0] !== DER_SEQUENCE || derLength(der) !== der.length)
    return 'its base64 body is not one DER-encoded CertificateList';
  return undefined;
}

/** The length a DER value at the start of `der` declares, header included; undefined when it cannot say. */
function derLength(der: Buffer): number | undefined {
  const first = der[1];
  if (first === undefined) return undefined;
  if (first < 0x80) return 2 + first;
  const octets = first & 0x7f;
  if (octets === 0 || octets > 4 || der.length < 2 + octets) return undefined;
  let length = 0;
  for (let i = 0; i < octets; i += 1) length = length * 256 + (der[2 + i] as number);
  return 2 + octets + length;
}
