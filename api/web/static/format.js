// Number, time and protocol formatting for the page. Pure functions, no DOM.

const SI = [
  [1e12, 'T'],
  [1e9, 'G'],
  [1e6, 'M'],
  [1e3, 'k'],
];

/** 1234 → "1.23k", 5_600_000 → "5.6M"; three significant digits, exact below 1000. */
export function si(value) {
  if (value === null || value === undefined || Number.isNaN(value)) return '—';
  const abs = Math.abs(value);
  for (const [scale, suffix] of SI) {
    if (abs >= scale) return `${trim((value / scale).toPrecision(3))}${suffix}`;
  }
  return Number.isInteger(value) ? String(value) : trim(value.toPrecision(3));
}

/** Bytes in SI units: "1.23 MB". */
export function bytes(value) {
  if (value === null || value === undefined) return '—';
  const text = si(value);
  return /[kMGT]$/.test(text) ? `${text.slice(0, -1)} ${text.slice(-1)}B` : `${text} B`;
}

/** Exact integer with thin group separators, for titles and small counts. */
export function exact(value) {
  if (value === null || value === undefined) return '—';
  return new Intl.NumberFormat('en-US').format(value);
}

/** A ratio as a percentage with enough digits to tell 0.004 % from 0: "1.23 %", "0.0042 %". */
export function percent(ratio) {
  if (ratio === null || ratio === undefined || Number.isNaN(ratio)) return '—';
  if (ratio === 0) return '0 %';
  const p = ratio * 100;
  const abs = Math.abs(p);
  if (abs >= 10) return `${p.toFixed(1)} %`;
  if (abs >= 1) return `${p.toFixed(2)} %`;
  return `${trim(p.toPrecision(2))} %`;
}

function trim(text) {
  return text.includes('.') && !text.includes('e') ? text.replace(/\.?0+$/, '') : text;
}

/** Epoch ms → "2024-05-14 03:12:00Z" (seconds kept, milliseconds dropped). */
export function utc(ms) {
  if (ms === null || ms === undefined) return '—';
  return new Date(ms)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d{3}Z$/, 'Z');
}

/** Epoch ms → "03:12:00.250" in UTC, for flows inside one bucket. */
export function utcTime(ms, withMillis = false) {
  const iso = new Date(ms).toISOString();
  return withMillis ? iso.slice(11, 23) : iso.slice(11, 19);
}

/** Epoch ms → ISO 8601 as the API and the URL take it: "2024-05-14T03:12:00Z". */
export function isoParam(ms) {
  return new Date(ms).toISOString().replace(/\.000Z$/, 'Z');
}

/** The same instant in the browser's time zone, for a tooltip: "local 2024-05-14 05:12:00 (UTC+02:00)". */
export function localHint(ms) {
  if (ms === null || ms === undefined) return '';
  const d = new Date(ms);
  const pad = (n) => String(n).padStart(2, '0');
  const local = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  return `local ${local} (${utcOffset(d)})`;
}

/** The browser's offset from UTC at that instant: "UTC+02:00". */
export function utcOffset(d = new Date()) {
  const minutes = -d.getTimezoneOffset();
  const sign = minutes < 0 ? '-' : '+';
  const abs = Math.abs(minutes);
  return `UTC${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

/** A duration in ms → "1 h 5 min", "45 s", "7 d". */
export function duration(ms) {
  if (ms === null || ms === undefined) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  let s = Math.round(ms / 1000);
  const parts = [];
  const units = [
    [86400, 'd'],
    [3600, 'h'],
    [60, 'min'],
    [1, 's'],
  ];
  for (const [size, name] of units) {
    if (s >= size) {
      parts.push(`${Math.floor(s / size)} ${name}`);
      s %= size;
    }
    if (parts.length === 2) break;
  }
  return parts.join(' ');
}

/** SPI as the IPsec tools print it: 0x followed by 8 lowercase hex digits. */
export function spiHex(spi) {
  if (spi === null || spi === undefined) return '—';
  return `0x${(spi >>> 0).toString(16).padStart(8, '0')}`;
}

const PROTOCOLS = {
  1: 'ICMP',
  6: 'TCP',
  17: 'UDP',
  47: 'GRE',
  50: 'ESP',
  51: 'AH',
  58: 'ICMPv6',
  132: 'SCTP',
};

export function protoName(proto) {
  if (proto === null || proto === undefined) return '—';
  return PROTOCOLS[proto] ?? String(proto);
}

/** ICMP type/code with a name for the ones an IPsec engineer looks for. */
export function icmpText(proto, type, code) {
  if (type === null || type === undefined) return '';
  const pair = `${type}/${code ?? 0}`;
  if (proto === 1 && type === 3 && code === 4) return `${pair} frag needed`;
  if (proto === 58 && type === 2) return `${pair} packet too big`;
  if (proto === 1 && type === 3) return `${pair} unreachable`;
  if (proto === 1 && (type === 8 || type === 0)) return `${pair} echo${type === 0 ? ' reply' : ''}`;
  if (proto === 58 && (type === 128 || type === 129)) return `${pair} echo${type === 129 ? ' reply' : ''}`;
  return pair;
}

export const STATE_TEXT = {
  up: 'up',
  'one-way': 'one-way',
  negotiating: 'negotiating',
  'ike-one-sided': 'IKE one-sided',
  idle: 'idle',
};

export const STATE_HELP = {
  up: 'ESP seen in both directions',
  'one-way': 'ESP in one direction only: the other side does not send, or its packets are lost',
  negotiating: 'IKE both ways but no ESP yet',
  'ike-one-sided': 'IKE from one peer only: the other peer does not answer',
  idle: 'nothing seen in this window',
};

export const FLAG_TEXT = {
  fragmenting: 'fragmenting',
  'mtu-blackhole-risk': 'MTU black-hole risk',
  leaking: 'cleartext leak',
};

export const FLAG_HELP = {
  fragmenting: 'ESP packets arrive as IP fragments: the path MTU is smaller than the encrypted packets',
  'mtu-blackhole-risk': 'ICMP "fragmentation needed" / "packet too big" seen towards a peer',
  leaking: 'non-IPsec traffic between the peers or their protected subnets',
};

export const SOURCE_HELP = {
  reported: 'reported by the exporter (IPFIX droppedPacket counters or a probe’s ESP sequence fields)',
  sequence: 'from first/last ESP sequence numbers: expected − received',
  'two-point': 'two observation points: packets seen near the sender − packets seen near the receiver',
};

export const CLEARED_HELP = {
  negative: 'negative',
  'exceeds-sequence-space': 'more than the sequence space allows',
  'exceeds-ceiling': 'loss ratio above the configured ceiling',
  'sa-change': 'taken across an SA change',
  fragments: 'on a flow with IP fragments',
  'non-esp': 'on a non-ESP flow',
};

export const KIND_TEXT = {
  esp: 'ESP',
  'esp-in-udp': 'ESP-in-UDP',
  ike: 'IKE',
  'esp-fragment': 'ESP fragment',
  'icmp-frag-needed': 'ICMP frag needed',
  'cleartext-leak': 'cleartext leak',
  other: 'other',
};

export function encapsulationText(encapsulation) {
  return encapsulation === 'esp-in-udp' ? 'ESP-in-UDP (NAT-T)' : 'ESP';
}

/** Sum of a `{reason: n}` record; 0 for null. */
export function clearedTotal(cleared) {
  if (!cleared) return 0;
  return Object.values(cleared).reduce((sum, n) => sum + (typeof n === 'number' ? n : 0), 0);
}

/** "3 negative, 1 taken across an SA change" for a tooltip. */
export function clearedText(cleared) {
  if (!cleared) return '';
  return Object.entries(cleared)
    .filter(([, n]) => n > 0)
    .map(([reason, n]) => `${n} ${CLEARED_HELP[reason] ?? reason}`)
    .join(', ');
}
