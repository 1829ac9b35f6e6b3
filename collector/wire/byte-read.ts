// Big-endian integer reads. Callers check bounds before calling; an out-of-range index
// of a Uint8Array yields undefined (treated as 0 by the bit operators), never memory
// beyond the view, so even a caller's mistake cannot throw or read another buffer.

export function u16(bytes: Uint8Array, offset: number): number {
  return (bytes[offset]! << 8) | bytes[offset + 1]!;
}

export function u32(bytes: Uint8Array, offset: number): number {
  return (
    ((bytes[offset]! << 24) | (bytes[offset + 1]! << 16) | (bytes[offset + 2]! << 8) | bytes[offset + 3]!) >>>
    0
  );
}

/** 64-bit unsigned as a double: exact up to 2^53, which no flow counter reaches. */
export function u64(bytes: Uint8Array, offset: number): number {
  return u32(bytes, offset) * 4294967296 + u32(bytes, offset + 4);
}

/** Unsigned integer of 1-8 bytes (RFC 7011 §6.2 reduced-size encoding). */
export function uint(bytes: Uint8Array, offset: number, length: number): number {
  switch (length) {
    case 1:
      return bytes[offset]!;
    case 2:
      return (bytes[offset]! << 8) | bytes[offset + 1]!;
    case 4:
      return u32(bytes, offset);
    case 8:
      return u32(bytes, offset) * 4294967296 + u32(bytes, offset + 4);
    default: {
      let value = 0;
      for (let i = 0; i < length; i++) value = value * 256 + bytes[offset + i]!;
      return value;
    }
  }
}

const NTP_UNIX_OFFSET_S = 2208988800;
const TWO_POW_32 = 4294967296;

/**
 * NTP timestamp (RFC 7011 §6.1.9-6.1.10: seconds since 1900-01-01 + 2^-32 fraction) as
 * epoch ms. Seconds below 2^31 are read as NTP era 1 (from 2036-02-07), as RFC 5905 §6
 * suggests, since no flow record predates 1968. `microseconds` drops the low 11 bits of
 * the fraction, which RFC 7011 §6.1.9 says are not meaningful for dateTimeMicroseconds.
 * All-zero means "not set": null.
 */
export function ntpMs(bytes: Uint8Array, offset: number, microseconds: boolean): number | null {
  let seconds = u32(bytes, offset);
  let fraction = u32(bytes, offset + 4);
  if (seconds === 0 && fraction === 0) return null;
  if (microseconds) fraction = (fraction & 0xfffff800) >>> 0;
  if (seconds < 0x80000000) seconds += TWO_POW_32;
  return (seconds - NTP_UNIX_OFFSET_S) * 1000 + (fraction / TWO_POW_32) * 1000;
}
