import ipaddr from 'ipaddr.js';

/**
 * Parses a dotted quad into an unsigned 32-bit number without allocating (this runs for
 * every record the leak check looks at); -1 when the text is not a dotted quad.
 */
export function parseIpv4(text: string): number {
  let value = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      octet = octet * 10 + (c - 48);
      digits++;
      if (digits > 3 || octet > 255) return -1;
    } else if (c === 46) {
      if (digits === 0 || dots === 3) return -1;
      value = value * 256 + octet;
      octet = 0;
      digits = 0;
      dots++;
    } else {
      return -1;
    }
  }
  if (digits === 0 || dots !== 3) return -1;
  return value * 256 + octet;
}

/** The 16 bytes of an IPv6 address, or null when the text is not one. */
export function parseIpv6(text: string): Uint8Array | null {
  if (!ipaddr.IPv6.isValid(text)) return null;
  return Uint8Array.from(ipaddr.IPv6.parse(text).toByteArray());
}

const sortKeyCache = new Map<string, string>();
const sortKeyCacheLimit = 65_536;

/**
 * A string whose plain comparison orders addresses numerically with every IPv4 address
 * before every IPv6 address: `4` + 8 hex digits, or `6` + 32 hex digits. Text that is not
 * an address sorts last, by its text, so ordering never throws.
 */
export function addressSortKey(text: string): string {
  const cached = sortKeyCache.get(text);
  if (cached !== undefined) return cached;
  let key: string;
  const v4 = parseIpv4(text);
  if (v4 >= 0) {
    key = `4${v4.toString(16).padStart(8, '0')}`;
  } else {
    const v6 = parseIpv6(text);
    key = v6 === null ? `x${text}` : `6${Buffer.from(v6).toString('hex')}`;
  }
  // A plain bounded cache: tunnel peers repeat, so most lookups hit; a flood of distinct
  // addresses only costs a reset.
  if (sortKeyCache.size >= sortKeyCacheLimit) sortKeyCache.clear();
  sortKeyCache.set(text, key);
  return key;
}

/** Negative when `a` sorts before `b` (numeric order, IPv4 before IPv6). */
export function compareAddresses(a: string, b: string): number {
  const ka = addressSortKey(a);
  const kb = addressSortKey(b);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}
