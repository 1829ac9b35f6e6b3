// The one canonical text of an IP address, used everywhere a FlowRecord, a tunnel, a
// config entry or a filter names one: IPv4 as a dotted quad, IPv6 as RFC 5952 §4 text
// (lowercase, no leading zeros, the longest run of zero groups as `::`) without the §5
// dotted-quad tail. One formatter (from bytes, here) and one parser (from any text spelling
// to the canonical one, address-parse.ts), so that the same address always compares equal
// as text. The parser lives apart: with it in this module the decoders measured 12 % slower
// (farm-bench, fixed decode work, A/B paired), without it on par.
//
// The formatters read wire bytes: callers check bounds first; they read only the 4 or 16
// bytes they are given.
//
// Flow records repeat addresses all the time (every flow of a tunnel has the same two
// peers), so each function keeps a small direct-mapped cache of recent texts: a hit
// costs a few compares instead of building (and later collecting) a new string. A slot
// is only used after comparing all the address bytes, so a collision costs a rebuild,
// never a wrong text.

// 16384 slots (192 kB): with 4096, the many one-off host addresses of a busy exporter
// evicted the hot tunnel peers' texts often enough that the normalizer's lookups by
// address hashed fresh strings again (pipeline bench: normalize 1.64-1.68 M -> 1.81-1.91 M
// records/s, pinned, alternating runs).
const V4_SLOTS = 16384;
const v4Keys = new Int32Array(V4_SLOTS);
const v4Texts: (string | undefined)[] = new Array<string | undefined>(V4_SLOTS).fill(undefined);

/** Dotted quad of the 4 bytes at `offset`. */
export function ipv4Text(bytes: Uint8Array, offset: number): string {
  return dottedQuad(bytes[offset]!, bytes[offset + 1]!, bytes[offset + 2]!, bytes[offset + 3]!);
}

/** Dotted quad of an unsigned 32-bit value (a stored flow's IPv4 address). */
export function ipv4TextOf(value: number): string {
  return dottedQuad((value >>> 24) & 255, (value >>> 16) & 255, (value >>> 8) & 255, value & 255);
}

function dottedQuad(a: number, b: number, c: number, d: number): string {
  const key = (a << 24) | (b << 16) | (c << 8) | d;
  const slot = (key ^ (key >>> 12) ^ (key >>> 24)) & (V4_SLOTS - 1);
  if (v4Keys[slot] === key) {
    const cached = v4Texts[slot];
    if (cached !== undefined) return cached;
  }
  const text = `${a}.${b}.${c}.${d}`;
  v4Keys[slot] = key;
  v4Texts[slot] = text;
  return text;
}

const V6_SLOTS = 1024;
const v6Keys = new Uint8Array(V6_SLOTS * 16);
const v6Texts: (string | undefined)[] = new Array<string | undefined>(V6_SLOTS).fill(undefined);

/**
 * RFC 5952 text of the 16 bytes at `offset`: lowercase hex groups without leading zeros,
 * the longest run of two or more zero groups (the first, on a tie) shortened to `::`
 * (§4.2), and no dotted-quad tail (§5 only recommends it; ipaddr.js, which the rest of
 * tunnelflow parses with, prints pure hex too, so both agree on one text per address).
 */
export function ipv6Text(bytes: Uint8Array, offset: number): string {
  let hash = 0;
  for (let i = 0; i < 16; i++) hash = (Math.imul(hash, 31) + bytes[offset + i]!) | 0;
  const slot = (hash ^ (hash >>> 10) ^ (hash >>> 20)) & (V6_SLOTS - 1);
  const cached = v6Texts[slot];
  if (cached !== undefined) {
    const k = slot * 16;
    let same = true;
    for (let i = 0; i < 16; i++) {
      if (v6Keys[k + i] !== bytes[offset + i]) {
        same = false;
        break;
      }
    }
    if (same) return cached;
  }
  const text = formatIpv6(bytes, offset);
  for (let i = 0; i < 16; i++) v6Keys[slot * 16 + i] = bytes[offset + i]!;
  v6Texts[slot] = text;
  return text;
}

function formatIpv6(bytes: Uint8Array, offset: number): string {
  let bestStart = -1;
  let bestLength = 1;
  let runStart = -1;
  for (let i = 0; i < 8; i++) {
    const o = offset + 2 * i;
    if (bytes[o] === 0 && bytes[o + 1] === 0) {
      if (runStart < 0) runStart = i;
      const length = i - runStart + 1;
      if (length > bestLength) {
        bestLength = length;
        bestStart = runStart;
      }
    } else {
      runStart = -1;
    }
  }
  let text = '';
  for (let i = 0; i < 8; i++) {
    if (i === bestStart) {
      text += i === 0 ? '::' : ':';
      i += bestLength - 1;
      continue;
    }
    const o = offset + 2 * i;
    text += ((bytes[o]! << 8) | bytes[o + 1]!).toString(16);
    if (i < 7) text += ':';
  }
  return text;
}
