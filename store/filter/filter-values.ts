import ipaddr from 'ipaddr.js';
import { canonicalAddress } from '../../model/address-parse.js';
import type { FlowKind } from '../../model/flow.js';

/** IP protocol names the filter knows (IANA protocol numbers). */
export const PROTOCOL_NUMBERS: Readonly<Record<string, number>> = {
  icmp: 1,
  tcp: 6,
  udp: 17,
  gre: 47,
  esp: 50,
  ah: 51,
  icmp6: 58,
  ipv6_icmp: 58,
  'ipv6-icmp': 58,
  sctp: 132,
};

export const FLOW_KINDS: readonly FlowKind[] = [
  'esp',
  'esp-in-udp',
  'ike',
  'esp-fragment',
  'icmp-frag-needed',
  'cleartext-leak',
  'other',
];

/** An IP address in canonical text (model/address-text.ts), or null. */
export const parseAddress = canonicalAddress;

/** A CIDR prefix with the host bits cleared, e.g. "10.21.0.7/24" → 10.21.0.0/24; or null. */
export function parseCidr(text: string): { network: string; prefixLength: number } | null {
  const slash = text.indexOf('/');
  if (slash < 0) return null;
  const address = parseAddress(text.slice(0, slash));
  const lengthText = text.slice(slash + 1);
  if (address === null || !/^\d{1,3}$/.test(lengthText)) return null;
  const prefixLength = Number(lengthText);
  const parsed = ipaddr.parse(address);
  if (prefixLength > (parsed.kind() === 'ipv4' ? 32 : 128)) return null;
  const network =
    parsed.kind() === 'ipv4'
      ? ipaddr.IPv4.networkAddressFromCIDR(`${address}/${prefixLength}`)
      : ipaddr.IPv6.networkAddressFromCIDR(`${address}/${prefixLength}`);
  return { network: network.toString(), prefixLength };
}

/** A protocol name (case-insensitive) or number 0-255. */
export function parseProtocol(text: string): number | null {
  const named = PROTOCOL_NUMBERS[text.toLowerCase()];
  if (named !== undefined) return named;
  return parseInteger(text, 0, 255);
}

export function parsePort(text: string): number | null {
  return parseInteger(text, 0, 65_535);
}

/** An SPI in hex (0x6b1d2e93) or decimal; 32 bits (RFC 4303 §2.1). */
export function parseSpi(text: string): number | null {
  return parseInteger(text, 0, 0xffff_ffff);
}

/** A packet or byte count, with nfdump's k/m/g suffixes (powers of 1000). */
export function parseCount(text: string): number | null {
  const match = /^(\d+)([kmg]?)$/i.exec(text);
  if (match === null) return parseInteger(text, 0, Number.MAX_SAFE_INTEGER);
  const scale = { '': 1, k: 1e3, m: 1e6, g: 1e9 }[match[2]!.toLowerCase() as '' | 'k' | 'm' | 'g'];
  const value = Number(match[1]) * scale;
  return Number.isSafeInteger(value) ? value : null;
}

export function parseKind(text: string): FlowKind | null {
  const lower = text.toLowerCase();
  return FLOW_KINDS.find((kind) => kind === lower) ?? null;
}

/** A decimal or 0x-hex integer in [min, max], or null. */
export function parseInteger(text: string, min: number, max: number): number | null {
  let value: number;
  if (/^0x[0-9a-f]+$/i.test(text)) value = Number.parseInt(text.slice(2), 16);
  else if (/^\d+$/.test(text)) value = Number(text);
  else return null;
  return Number.isSafeInteger(value) && value >= min && value <= max ? value : null;
}
