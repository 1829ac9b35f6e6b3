// The one parser of address text: any spelling a person, a config or a filter may write,
// to the canonical text of model/address-text.ts (and to numbers or bytes for matching).
import ipaddr from 'ipaddr.js';
import { ipv6Text } from './address-text.js';

/**
 * Parses a dotted quad into an unsigned 32-bit number without allocating (this runs for
 * every record the leak check looks at); -1 when the text is not a dotted quad.
 */
export function parseIpv4(text: string): number {
  return readIpv4(text, false);
}

/**
 * The 32-bit value of a dotted quad in canonical text (model/address-text.ts: no leading
 * zeros), so that formatting the value gives the same text back; -1 for any other text.
 * Runs for every flow's two addresses on its way to the writer.
 */
export function canonicalIpv4(text: string): number {
  return readIpv4(text, true);
}

/** One pass over the text; `canonical` also refuses a part with a leading zero ("010"). */
function readIpv4(text: string, canonical: boolean): number {
  let value = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      if (canonical && digits === 1 && octet === 0) return -1;
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

/**
 * The canonical text of an address written any way a person or a config may write it
 * (`2001:DB8:0::1` → `2001:db8::1`), or null. IPv4 must have four decimal parts: ipaddr.js
 * would also take "10.1" or "0x0a.1", which read like mistakes.
 */
export function canonicalAddress(text: string): string | null {
  if (ipaddr.IPv4.isValidFourPartDecimal(text)) return ipaddr.IPv4.parse(text).toString();
  const v6 = text.includes(':') ? parseIpv6(text) : null;
  return v6 === null ? null : ipv6Text(v6, 0);
}
