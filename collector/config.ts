import { z } from 'zod';
import { cidrSchema } from './normalize/config.js';

/**
 * Collector settings: where the listeners bind and how large a receive buffer they
 * ask the kernel for. NetFlow v5/v9 and IPFIX are all accepted on the NetFlow port
 * (the version is dispatched per datagram, as nfcapd does); IPFIX also gets its IANA
 * port over UDP and TCP (RFC 7011 §10).
 */
export const collectorConfigSchema = z
  .object({
    /** Address the flow listeners bind to; `::` accepts IPv4 and IPv6 on dual-stack hosts. */
    listen: z.string().min(1).default('0.0.0.0'),
    /** UDP port for NetFlow v5, v9 and IPFIX (0 = any free port, for tests). */
    netflowPort: z.number().int().min(0).max(65535).default(2055),
    /** UDP and TCP port for IPFIX (RFC 7011 §10: 4739). */
    ipfixPort: z.number().int().min(0).max(65535).default(4739),
    /**
     * Socket receive buffer asked for. Bursts from many exporters arrive faster than any
     * single-threaded consumer drains them; a large kernel buffer absorbs them. Linux caps it
     * at net.core.rmem_max, which the log reports.
     */
    receiveBufferBytes: z
      .number()
      .int()
      .min(64 * 1024)
      .default(32 * 1024 * 1024),
    /** Templates not refreshed for this long are forgotten (NetFlow v9 has no withdrawal). */
    templateTimeoutSeconds: z.number().int().min(1).default(3600),
    /**
     * Exporters allowed to send (CIDRs; a bare address is one host). Datagrams and TCP
     * connections from anyone else are dropped before decoding and counted per source.
     * Empty: everyone.
     */
    allowedExporters: z.array(cidrSchema).default([]),
    /**
     * This collector's name in a database several collectors share (PostgreSQL): the
     * normalizer's memory of tunnels and SAs is kept under it, so that each collector gets
     * its own back after a restart. Letters, digits, `.`, `_`, `-`. Unset: the one
     * collector of the database (its memory under the key `normalizer`).
     */
    name: z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,64}$/, 'letters, digits, ".", "_" and "-", at most 64')
      .optional(),
    /** Counters are written to the store this often. */
    countersFlushMs: z.number().int().min(100).default(1000),
  })
  .strict();

export type CollectorConfig = z.infer<typeof collectorConfigSchema>;
