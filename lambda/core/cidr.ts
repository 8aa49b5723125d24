/** IPv4 CIDR blocks: the client address pools of Client VPN endpoints. */
export interface Cidr {
  readonly text: string;
  readonly network: number;
  readonly mask: number;
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

export function parseIpv4(text: string): number | undefined {
  const match = IPV4.exec(text);
  if (!match) return undefined;
  const octets = match.slice(1).map(Number);
  if (octets.some((o) => o > 255)) return undefined;
  return octets.reduce((acc, o) => acc * 256 + o, 0);
}

export function parseCidr(text: string): Cidr | undefined {
  const [address = '', bitsText = '', ...rest] = text.trim().split('/');
  const network = parseIpv4(address);
  const bits = Number(bitsText);
  if (rest.length > 0 || network === undefined || !/^\d{1,2}$/.test(bitsText) || bits > 32) return undefined;
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  return { text: text.trim(), network: (network & mask) >>> 0, mask };
}

export function cidrContains(cidr: Cidr, ip: string): boolean {
  const address = parseIpv4(ip);
  return address !== undefined && (address & cidr.mask) >>> 0 === cidr.network;
}

/** The addresses in an alert that belong to VPN clients: inside a configured client CIDR. */
export function clientAddresses(addresses: readonly string[], clientCidrs: readonly Cidr[]): string[] {
  return [...new Set(addresses.filter((ip) => clientCidrs.some((cidr) => cidrContains(cidr, ip))))].sort();
}
