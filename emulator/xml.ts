/**
 * EC2 Query protocol XML. Element names follow the SDK's schema (`@aws-sdk/client-ec2`, search
 * `connectionEstablishedTime`); list members are wrapped in `<item>`.
 */
export const EC2_NAMESPACE = 'http://ec2.amazonaws.com/doc/2016-11-15/';

/** A value tree: strings/numbers/booleans are text, arrays are `<item>` lists, objects are nested elements. */
export type XmlValue = string | number | boolean | undefined | XmlValue[] | { [name: string]: XmlValue };

export function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

function render(name: string, value: XmlValue): string {
  if (value === undefined) return '';
  if (Array.isArray(value)) return `<${name}>${value.map((item) => render('item', item)).join('')}</${name}>`;
  if (typeof value === 'object') {
    const body = Object.entries(value)
      .map(([child, v]) => render(child, v))
      .join('');
    return `<${name}>${body}</${name}>`;
  }
  return `<${name}>${escapeXml(String(value))}</${name}>`;
}

export function successXml(action: string, requestId: string, body: Record<string, XmlValue>): string {
  const inner = Object.entries(body)
    .map(([name, value]) => render(name, value))
    .join('');
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response xmlns="${EC2_NAMESPACE}"><requestId>${requestId}</requestId>${inner}</${action}Response>`;
}

export function errorXml(code: string, message: string, requestId: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${escapeXml(code)}</Code><Message>${escapeXml(message)}</Message></Error></Errors><RequestID>${requestId}</RequestID></Response>`;
}

/** The format the Client VPN API uses for connection times: "2019-08-12 07:57:14" (UTC). */
export function ec2Time(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
}
