import { parseIpv4, parseIpv6 } from '../../model/address-parse.js';

/** An address parsed once so it can be tested against many subnets. */
export type ParsedAddress =
  { readonly v4: number; readonly v6: null } | { readonly v4: -1; readonly v6: Uint8Array };

export function parseAddress(text: string): ParsedAddress | null {
  const v4 = parseIpv4(text);
  if (v4 >= 0) return { v4, v6: null };
  const v6 = parseIpv6(text);
  return v6 === null ? null : { v4: -1, v6 };
}

/** A set of subnets that answers "is this address in one of them?". */
export interface SubnetMatcher {
  readonly size: number;
  contains(address: ParsedAddress): boolean;
}

interface V6Subnet {
  readonly bytes: Uint8Array;
  readonly prefix: number;
}

/**
 * Compiles `a.b.c.d/n` and `x::/n` subnets (canonical, as config.ts leaves them). IPv4 is
 * a mask-and-compare on numbers; IPv6 compares whole bytes then the partial byte.
 */
export function compileSubnets(cidrs: readonly string[]): SubnetMatcher {
  const v4Nets: number[] = [];
  const v4Masks: number[] = [];
  const v6: V6Subnet[] = [];
  for (const cidr of cidrs) {
    const slash = cidr.indexOf('/');
    const address = slash < 0 ? cidr : cidr.slice(0, slash);
    const parsed = parseAddress(address);
    if (parsed === null) throw new Error(`not a subnet: ${cidr}`);
    if (parsed.v6 === null) {
      const prefix = slash < 0 ? 32 : Number(cidr.slice(slash + 1));
      const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
      v4Masks.push(mask);
      v4Nets.push((parsed.v4 & mask) >>> 0);
    } else {
      const prefix = slash < 0 ? 128 : Number(cidr.slice(slash + 1));
      v6.push({ bytes: parsed.v6, prefix });
    }
  }
  return {
    size: v4Nets.length + v6.length,
    contains(address: ParsedAddress): boolean {
      if (address.v6 === null) {
        for (let i = 0; i < v4Nets.length; i++) {
          if ((address.v4 & (v4Masks[i] as number)) >>> 0 === v4Nets[i]) return true;
        }
        return false;
      }
      for (const subnet of v6) {
        if (v6PrefixMatches(address.v6, subnet)) return true;
      }
      return false;
    },
  };
}

function v6PrefixMatches(address: Uint8Array, subnet: V6Subnet): boolean {
  const whole = subnet.prefix >> 3;
  for (let i = 0; i < whole; i++) {
    if (address[i] !== subnet.bytes[i]) return false;
  }
  const rest = subnet.prefix & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (((address[whole] as number) ^ (subnet.bytes[whole] as number)) & mask) === 0;
}
