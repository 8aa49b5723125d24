import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { revocationListProblem } from '../../lambda/core/revocation-list';

/** A real CRL that openssl wrote for a throwaway CA (test/fixtures/README.md says how). */
const CRL = readFileSync(join(__dirname, '..', 'fixtures', 'client-revocation-list.pem'), 'utf8');
const lines = CRL.trim().split('\n');
const body = lines.slice(1, -1);
const relabel = (label: string) => [`-----BEGIN ${label}-----`, ...body, `-----END ${label}-----`].join('\n');

describe('revocationListProblem: the shape of a PEM X509 CRL', () => {
  it.each([
    { label: 'the CRL as openssl wrote it', text: CRL },
    { label: 'with Windows line ends', text: CRL.replace(/\n/g, '\r\n') },
    { label: 'with blank lines around it', text: `\n\n${CRL}\n` },
  ])('accepts $label', ({ text }) => {
    expect(revocationListProblem(text)).toBeUndefined();
  });

  it.each([
    { label: 'an empty file', text: '  \n', problem: /^it is empty$/ },
    {
      label: 'DER bytes',
      text: Buffer.from(body.join(''), 'base64').toString('latin1'),
      problem: /not PEM/,
    },
    {
      label: 'a certificate',
      text: relabel('CERTIFICATE'),
      problem: /a PEM "CERTIFICATE", not an "X509 CRL"/,
    },
    { label: 'a private key', text: relabel('PRIVATE KEY'), problem: /a PEM "PRIVATE KEY"/ },
    { label: 'two CRLs in one file', text: `${CRL}\n${CRL}`, problem: /holds 2 PEM blocks/ },
    {
      label: 'an END line of another label',
      text: [lines[0], ...body, '-----END CERTIFICATE-----'].join('\n'),
      problem: /BEGIN X509 CRL ends with END CERTIFICATE/,
    },
    { label: 'no END line', text: lines.slice(0, -1).join('\n'), problem: /malformed/ },
    {
      label: 'a body cut short',
      text: [lines[0], ...body.slice(0, -1), lines.at(-1)].join('\n'),
      problem: /not one DER-encoded CertificateList/,
    },
    {
      label: 'a body that is not base64',
      text: [lines[0], 'not*base64!', lines.at(-1)].join('\n'),
      problem: /malformed/,
    },
  ])('rejects $label, never quoting the content', ({ text, problem }) => {
    const said = revocationListProblem(text);
    expect(said).toMatch(problem);
    expect(said).not.toContain(body[0]);
  });
});
