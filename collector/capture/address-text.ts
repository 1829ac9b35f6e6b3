// Canonical text for addresses read off the wire, so that the same exporter always gets the
// same key whether its datagrams came from a capture or a live socket.

/** Dotted quad of the 4 bytes at `offset`; the caller has checked the bounds. */
export function formatIpv4(buf: Uint8Array, offset: number): string {
  return `${buf[offset]}.${buf[offset + 1]}.${buf[offset + 2]}.${buf[offset + 3]}`;
}

/**
 * RFC 5952 text of the 16 bytes at `offset`: lowercase hex, no leading zeros (§4.1), the longest
 * run of two or more zero groups shortened to `::`, the first one on a tie (§4.2), and IPv4-mapped
 * addresses in mixed notation (§5), which is also how Node names such peers on dual-stack sockets.
 */
export function formatIpv6(buf: Uint8Array, offset: number): string {
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) {
    groups.push(((buf[offset + 2 * i] ?? 0) << 8) | (buf[offset + 2 * i + 1] ?? 0));
  }
  const isV4Mapped = groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff;
  if (isV4Mapped) return `::ffff:${formatIpv4(buf, offset + 12)}`;

  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (gs: number[]): string => gs.map((g) => g.toString(16)).join(':');
  if (bestLen < 2) return hex(groups);
  return `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLen))}`;
}
