import ipaddr from 'ipaddr.js';

/**
 * A sortable binary form of an IP address, so that "is this address in that CIDR"
 * becomes a range comparison SQLite (memcmp on BLOBs) or PostgreSQL (bytea) can do.
 *
 * Layout: one family byte (4 or 6) then the address bytes in network order, 5 bytes
 * for IPv4 and 17 for IPv6. The family byte keeps the two families apart: IPv4 is not
 * folded into ::ffff:0:0/96, so `net ::/0` never matches an IPv4 flow.
 */
export type AddressKey = Buffer;

const V4_FAMILY = 4;
const V6_FAMILY = 6;

/**
 * Name of the SQL function (registered on every store connection) that returns
 * addressKey of a text, for IPv6 `net` filters (store/filter/compile-filter.ts).
 */
export const IP_KEY_FUNCTION = 'tunnelflow_ip_key';

/** Key of an address in text form; null when the text is no IP address. */
export function addressKey(text: string): AddressKey | null {
  const v4 = parseDottedQuad(text);
  if (v4 !== null) return v4;
  if (!text.includes(':')) return null;
  try {
    const parsed = ipaddr.IPv6.parse(text);
    return keyFromBytes(V6_FAMILY, parsed.toByteArray());
  } catch {
    return null;
  }
}

/** Inclusive [low, high] keys of a CIDR prefix. */
export function prefixKeyRange(
  address: ipaddr.IPv4 | ipaddr.IPv6,
  prefixLength: number,
): [AddressKey, AddressKey] {
  const bytes = address.toByteArray();
  const low = [...bytes];
  const high = [...bytes];
  for (let bit = prefixLength; bit < bytes.length * 8; bit += 1) {
    const byte = bit >> 3;
    const mask = 0x80 >> (bit & 7);
    low[byte] = (low[byte] ?? 0) & ~mask;
    high[byte] = (high[byte] ?? 0) | mask;
  }
  const family = address.kind() === 'ipv4' ? V4_FAMILY : V6_FAMILY;
  return [keyFromBytes(family, low), keyFromBytes(family, high)];
}

function keyFromBytes(family: number, bytes: readonly number[]): AddressKey {
  const key = Buffer.allocUnsafe(bytes.length + 1);
  key[0] = family;
  for (let i = 0; i < bytes.length; i += 1) key[i + 1] = bytes[i] ?? 0;
  return key;
}

// The writer keys every flow's two addresses; parsing dotted quads by hand is several
// times faster than going through ipaddr.js, and IPv4 is most of the traffic.
function parseDottedQuad(text: string): AddressKey | null {
  const length = text.length;
  if (length < 7 || length > 15) return null;
  const key = Buffer.allocUnsafe(5);
  key[0] = V4_FAMILY;
  let part = 0;
  let value = 0;
  let digits = 0;
  for (let i = 0; i <= length; i += 1) {
    const code = i < length ? text.charCodeAt(i) : 46;
    if (code === 46) {
      if (digits === 0 || part > 3) return null;
      key[part + 1] = value;
      part += 1;
      value = 0;
      digits = 0;
    } else if (code >= 48 && code <= 57) {
      // A leading zero would make "010" ambiguous (octal in some parsers): not canonical.
      if (digits > 0 && value === 0) return null;
      value = value * 10 + (code - 48);
      digits += 1;
      if (value > 255) return null;
    } else {
      return null;
    }
  }
  return part === 4 ? key : null;
}
