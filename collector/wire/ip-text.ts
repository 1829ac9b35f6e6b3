// Canonical text for addresses read off the wire. Callers check bounds first; these
// functions only read the 4 or 16 bytes they are given.

/** Dotted quad of the 4 bytes at `offset`. */
export function ipv4Text(bytes: Uint8Array, offset: number): string {
  return `${bytes[offset]}.${bytes[offset + 1]}.${bytes[offset + 2]}.${bytes[offset + 3]}`;
}

const hex16: string[] = [];

function groupText(value: number): string {
  // Most groups of real addresses are small (0, 1, db8); cache the first 4096 texts.
  if (value < 4096) {
    let text = hex16[value];
    if (text === undefined) {
      text = value.toString(16);
      hex16[value] = text;
    }
    return text;
  }
  return value.toString(16);
}

/**
 * RFC 5952 text of the 16 bytes at `offset`: lowercase hex groups without leading zeros,
 * the longest run of two or more zero groups (the first, on a tie) shortened to `::`
 * (§4.2), and no dotted-quad tail (§5 only recommends it; ipaddr.js, which the rest of
 * tunnelflow parses with, prints pure hex too, so both agree on one text per address).
 */
export function ipv6Text(bytes: Uint8Array, offset: number): string {
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
    text += groupText((bytes[o]! << 8) | bytes[o + 1]!);
    if (i < 7) text += ':';
  }
  return text;
}
