// The probe's exporting process (RFC 7011): records are packed into messages of at most
// `maxMessageBytes`, each message's header carrying the export time, the count of data records
// sent before it in this observation domain (§3.1), and the domain. Over UDP the templates and
// the RFC 5610 type records go out first and again every `templateRefreshMessages` messages or
// `templateRefreshMs` of export time (§8.4); over TCP once, at the start of the connection (§8.1).

import dgram from 'node:dgram';
import net from 'node:net';
import {
  MESSAGE_HEADER_LENGTH,
  encodeDataSet,
  encodeMessage,
  encodeOptionsTemplateSet,
  encodeTemplateSet,
} from '../collector/wire/ipfix-encoder.js';
import type { ProbeRecord } from './flow-meter.js';
import {
  DATA_TEMPLATES,
  OPTIONS_TEMPLATES,
  TEMPLATE_CAPTURE_STATS,
  TEMPLATE_TYPE_RECORDS,
  encodeCaptureStats,
  encodeProbeRecord,
  encodeTypeRecords,
} from './probe-templates.js';

export type ExportTransport = 'udp' | 'tcp';

export interface ExporterOptions {
  readonly host: string;
  readonly port: number;
  readonly transport: ExportTransport;
  readonly observationDomainId: number;
  /** Export time source, epoch ms (capture time for a file, the wall clock live). */
  readonly clock: () => number;
  /** UDP: keep messages below the path MTU (default 1400 bytes). */
  readonly maxMessageBytes?: number;
  readonly templateRefreshMessages?: number;
  readonly templateRefreshMs?: number;
}

export interface ExporterCounters {
  messages: number;
  /** Flow data records sent (options records apart). */
  records: number;
  optionsRecords: number;
  bytes: number;
  templateSends: number;
  sendErrors: number;
}

const SET_HEADER = 4;

export class IpfixExporter {
  readonly counters: ExporterCounters = {
    messages: 0,
    records: 0,
    optionsRecords: 0,
    bytes: 0,
    templateSends: 0,
    sendErrors: 0,
  };
  readonly #o: Required<ExporterOptions>;
  #udp: dgram.Socket | null = null;
  #tcp: net.Socket | null = null;
  /** Data records sent so far (flow and options), the header's sequence number. */
  #sequence = 0;
  #outbox: Buffer[] = [];
  #sets: Buffer[] = [];
  #setsBytes = 0;
  #setsRecords = 0;
  #openTemplate = -1;
  #openRecords: Buffer[] = [];
  #openBytes = 0;
  #messagesSinceTemplates = Infinity;
  #lastTemplatesMs = -Infinity;
  #tcpError: Error | null = null;

  constructor(options: ExporterOptions) {
    this.#o = {
      maxMessageBytes: options.transport === 'udp' ? 1400 : 16_384,
      templateRefreshMessages: 100,
      templateRefreshMs: 60_000,
      ...options,
    };
  }

  async open(): Promise<void> {
    if (this.#o.transport === 'udp') {
      const family = net.isIPv6(this.#o.host) ? 'udp6' : 'udp4';
      const s = dgram.createSocket(family);
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.connect(this.#o.port, this.#o.host, () => {
          s.off('error', reject);
          resolve();
        });
      });
      s.on('error', () => {
        this.counters.sendErrors++;
      });
      this.#udp = s;
    } else {
      const s = net.connect({ host: this.#o.host, port: this.#o.port });
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.once('connect', () => {
          s.off('error', reject);
          resolve();
        });
      });
      s.on('error', (err) => {
        this.#tcpError = err;
      });
      s.setNoDelay(true);
      this.#tcp = s;
    }
  }

  /** Queues one flow record. */
  add(record: ProbeRecord): void {
    const { templateId, bytes } = encodeProbeRecord(record);
    this.#addRecord(templateId, bytes);
    this.counters.records++;
  }

  /** Queues the capture's counters as an options record. */
  addCaptureStats(dropped: number): void {
    const rec = encodeCaptureStats(
      this.#o.observationDomainId,
      dropped,
      this.counters.messages,
      this.counters.records,
    );
    this.#addRecord(TEMPLATE_CAPTURE_STATS, rec);
    this.counters.optionsRecords++;
  }

  #addRecord(templateId: number, bytes: Buffer): void {
    this.#maybeTemplates();
    const needed = bytes.length + (this.#openTemplate === templateId ? 0 : SET_HEADER);
    if (MESSAGE_HEADER_LENGTH + this.#setsBytes + this.#openSetBytes() + needed > this.#o.maxMessageBytes) {
      this.#finishMessage();
      this.#maybeTemplates();
    }
    if (this.#openTemplate !== templateId) {
      this.#closeSet();
      this.#openTemplate = templateId;
    }
    this.#openRecords.push(bytes);
    this.#openBytes += bytes.length;
  }

  #openSetBytes(): number {
    return this.#openRecords.length === 0 ? 0 : SET_HEADER + this.#openBytes;
  }

  #closeSet(): void {
    if (this.#openRecords.length > 0) {
      const set = encodeDataSet(this.#openTemplate, this.#openRecords);
      this.#sets.push(set);
      this.#setsBytes += set.length;
      this.#setsRecords += this.#openRecords.length;
    }
    this.#openRecords = [];
    this.#openBytes = 0;
    this.#openTemplate = -1;
  }

  /** Starts a message with the templates when they are due. */
  #maybeTemplates(): void {
    const now = this.#o.clock();
    const due =
      this.#o.transport === 'udp'
        ? this.#messagesSinceTemplates >= this.#o.templateRefreshMessages ||
          now - this.#lastTemplatesMs >= this.#o.templateRefreshMs
        : this.#lastTemplatesMs === -Infinity;
    if (!due) return;
    // Templates lead a message of their own, so the data that follows always finds them.
    if (this.#sets.length > 0 || this.#openRecords.length > 0) this.#finishMessage();
    this.#lastTemplatesMs = now;
    this.#messagesSinceTemplates = 0;
    this.counters.templateSends++;
    this.#sets.push(encodeTemplateSet(DATA_TEMPLATES), encodeOptionsTemplateSet(OPTIONS_TEMPLATES));
    this.#setsBytes += this.#sets[0]!.length + this.#sets[1]!.length;
    // The type records in a message of their own: with the templates they would pass 1400 bytes.
    this.#finishMessage();
    const typeRecords = encodeTypeRecords();
    const set = encodeDataSet(TEMPLATE_TYPE_RECORDS, typeRecords);
    this.#sets.push(set);
    this.#setsBytes += set.length;
    this.#setsRecords += typeRecords.length;
    this.counters.optionsRecords += typeRecords.length;
    this.#finishMessage();
  }

  #finishMessage(): void {
    this.#closeSet();
    if (this.#sets.length === 0) return;
    const msg = encodeMessage({
      exportTimeSec: Math.floor(this.#o.clock() / 1000),
      sequence: this.#sequence,
      observationDomainId: this.#o.observationDomainId,
      sets: this.#sets,
    });
    // RFC 7011 §3.1: the sequence number counts data records, options data records included.
    this.#sequence = (this.#sequence + this.#setsRecords) % 2 ** 32;
    this.#sets = [];
    this.#setsBytes = 0;
    this.#setsRecords = 0;
    this.#outbox.push(msg);
    this.#messagesSinceTemplates++;
  }

  /** Sends everything queued (the open message too). */
  async flush(): Promise<void> {
    this.#finishMessage();
    await this.#sendOutbox();
  }

  /**
   * Closes the open message and hands over every message built and not sent, for a caller that
   * carries them itself (no socket needed: `open()` is not called then).
   */
  takeMessages(): Buffer[] {
    this.#finishMessage();
    const out = this.#outbox;
    this.#outbox = [];
    for (const m of out) {
      this.counters.messages++;
      this.counters.bytes += m.length;
    }
    return out;
  }

  /** Sends the messages already complete; the open one waits for more records. */
  async drain(): Promise<void> {
    await this.#sendOutbox();
  }

  async #sendOutbox(): Promise<void> {
    const out = this.#outbox;
    this.#outbox = [];
    for (const msg of out) {
      await this.#send(msg);
      this.counters.messages++;
      this.counters.bytes += msg.length;
    }
  }

  async #send(msg: Buffer): Promise<void> {
    if (this.#udp !== null) {
      const s = this.#udp;
      await new Promise<void>((resolve) => {
        s.send(msg, (err) => {
          if (err) this.counters.sendErrors++;
          resolve();
        });
      });
      return;
    }
    const s = this.#tcp;
    if (s === null) throw new Error('exporter is not open');
    if (this.#tcpError !== null) throw this.#tcpError;
    if (!s.write(msg)) {
      await new Promise<void>((resolve, reject) => {
        const onError = (err: Error): void => reject(err);
        s.once('error', onError);
        s.once('drain', () => {
          s.off('error', onError);
          resolve();
        });
      });
    }
  }

  async close(): Promise<void> {
    await this.flush();
    if (this.#udp !== null) {
      const s = this.#udp;
      this.#udp = null;
      await new Promise<void>((resolve) => s.close(() => resolve()));
    }
    if (this.#tcp !== null) {
      const s = this.#tcp;
      this.#tcp = null;
      await new Promise<void>((resolve) => s.end(() => resolve()));
    }
  }
}
