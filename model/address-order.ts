// Numeric order of addresses (IPv4 before IPv6): tunnel peers A/B, sorted listings.
import { parseIpv4, parseIpv6 } from './address-parse.js';

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
