// Strips the link-layer header of a frame down to the IP packet inside it. Link type numbers
// are the LINKTYPE_ values of the tcpdump.org registry (the ones pcap and pcapng files carry).

export const LINKTYPE_NULL = 0;
export const LINKTYPE_ETHERNET = 1;
export const LINKTYPE_RAW_OLD_12 = 12;
export const LINKTYPE_RAW_OLD_14 = 14;
export const LINKTYPE_RAW = 101;
export const LINKTYPE_LOOP = 108;
export const LINKTYPE_LINUX_SLL = 113;
export const LINKTYPE_IPV4 = 228;
export const LINKTYPE_IPV6 = 229;
export const LINKTYPE_LINUX_SLL2 = 276;

const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_IPV6 = 0x86dd;
/** 802.1Q customer tag, 802.1ad service tag, and the pre-standard QinQ tag some switches still send. */
const VLAN_ETHERTYPES = new Set([0x8100, 0x88a8, 0x9100]);
/** At most this many stacked VLAN tags are peeled; more is not a real frame. */
const MAX_VLAN_TAGS = 8;

/** BSD address families: AF_INET is 2 everywhere; AF_INET6 is 24 (NetBSD, OpenBSD), 28 (FreeBSD), 30 (macOS). */
const AF_INET = 2;
const AF_INET6 = new Set([24, 28, 30]);

export type LinkResult =
  | { readonly kind: 'ip'; readonly ipVersion: 4 | 6 | null; readonly packet: Buffer }
  /** A well-formed frame that does not carry IP (ARP, LLC, ...): nothing to report. */
  | { readonly kind: 'not-ip' }
  | { readonly kind: 'unknown-link-type' }
  | { readonly kind: 'malformed'; readonly detail: string };

const ip = (ipVersion: 4 | 6 | null, packet: Buffer): LinkResult => ({ kind: 'ip', ipVersion, packet });

function byEtherType(etherType: number, packet: Buffer): LinkResult {
  if (etherType === ETHERTYPE_IPV4) return ip(4, packet);
  if (etherType === ETHERTYPE_IPV6) return ip(6, packet);
  return { kind: 'not-ip' };
}

/**
 * The IP packet in `data` for link type `linkType`. `ipVersion` is what the link layer says the
 * packet is (null for raw IP, where only the packet's own version nibble tells).
 */
export function decodeLinkLayer(linkType: number, data: Buffer): LinkResult {
  switch (linkType) {
    case LINKTYPE_ETHERNET: {
      if (data.length < 14) return { kind: 'malformed', detail: `ethernet frame of ${data.length} bytes` };
      let at = 12;
      let etherType = data.readUInt16BE(at);
      for (let tags = 0; VLAN_ETHERTYPES.has(etherType); tags++) {
        if (tags === MAX_VLAN_TAGS || data.length < at + 8) {
          return { kind: 'malformed', detail: 'ethernet frame ends inside its VLAN tags' };
        }
        at += 4;
        etherType = data.readUInt16BE(at);
      }
      // Values up to 1500 are an 802.3 length followed by LLC, never IP in an export capture.
      return byEtherType(etherType, data.subarray(at + 2));
    }
    case LINKTYPE_LINUX_SLL: {
      // packet type, ARPHRD type, address length, 8 address bytes, then the protocol (ethertype).
      if (data.length < 16)
        return { kind: 'malformed', detail: `linux cooked header of ${data.length} bytes` };
      return byEtherType(data.readUInt16BE(14), data.subarray(16));
    }
    case LINKTYPE_LINUX_SLL2: {
      // The protocol comes first in version 2, then reserved, ifindex, ARPHRD, type, address.
      if (data.length < 20)
        return { kind: 'malformed', detail: `linux cooked v2 header of ${data.length} bytes` };
      return byEtherType(data.readUInt16BE(0), data.subarray(20));
    }
    case LINKTYPE_NULL:
    case LINKTYPE_LOOP: {
      // The family is in the capturing host's byte order for NULL, network order for LOOP, but
      // files moved between hosts get both wrong, so either order is accepted.
      if (data.length < 4) return { kind: 'malformed', detail: `loopback header of ${data.length} bytes` };
      const families = [data.readUInt32LE(0), data.readUInt32BE(0)];
      const packet = data.subarray(4);
      if (families.includes(AF_INET)) return ip(4, packet);
      if (families.some((f) => AF_INET6.has(f))) return ip(6, packet);
      return { kind: 'not-ip' };
    }
    case LINKTYPE_RAW:
    case LINKTYPE_RAW_OLD_12:
    case LINKTYPE_RAW_OLD_14:
      return ip(null, data);
    case LINKTYPE_IPV4:
      return ip(4, data);
    case LINKTYPE_IPV6:
      return ip(6, data);
    default:
      return { kind: 'unknown-link-type' };
  }
}
