import { canonicalAddress } from '../../model/address-parse.js';
import { z } from 'zod';

const addressSchema = z.string().transform((text, ctx) => {
  const canonical = canonicalAddress(text.trim());
  if (canonical === null) {
    ctx.addIssue({ code: 'custom', message: `"${text}" is not an IPv4 or IPv6 address` });
    return z.NEVER;
  }
  return canonical;
});

/** A subnet in CIDR notation, canonical (`10.21.0.0/24`); a bare address is a host prefix. */
export const cidrSchema = z.string().transform((text, ctx) => {
  const [address, prefixText, extra] = text.trim().split('/');
  const canonical = address === undefined ? null : canonicalAddress(address);
  const prefix = prefixText === undefined ? (canonical?.includes(':') ? 128 : 32) : Number(prefixText);
  const max = canonical?.includes(':') ? 128 : 32;
  if (canonical === null || extra !== undefined || !Number.isInteger(prefix) || prefix < 0 || prefix > max) {
    ctx.addIssue({
      code: 'custom',
      message: `"${text}" is not a subnet (write it as 10.21.0.0/24 or 2001:db8::/48)`,
    });
    return z.NEVER;
  }
  return `${canonical}/${prefix}`;
});

const observationPointSchema = z
  .object({
    /** Exporter address (the datagram's source, or `ingest --exporter`). */
    exporter: addressSchema,
    /** NetFlow v9 source id / IPFIX observation domain; absent = every domain of that exporter. */
    domain: z.number().int().min(0).max(0xffffffff).optional(),
    /** The tunnel peer whose traffic this exporter sees first-hand. */
    near: addressSchema,
  })
  .strict();

const configuredTunnelSchema = z
  .object({
    name: z.string().min(1),
    peerA: addressSchema,
    peerB: addressSchema,
    /** Traffic between these subnets outside the tunnel is a cleartext leak. */
    protectedSubnets: z
      .object({ a: z.array(cidrSchema).default([]), b: z.array(cidrSchema).default([]) })
      .strict()
      .prefault({}),
  })
  .strict()
  .refine((t) => t.peerA !== t.peerB, { message: 'peerA and peerB must be two different addresses' });

/**
 * Normalizer settings (DESIGN.md YAML keys `observationPoints`, `tunnels`, `loss`, plus the
 * bucket and SA timing). Every time here is record time: a capture ingested a year later
 * behaves as it did live.
 */
export const normalizeConfigSchema = z
  .object({
    /** Bucket size; buckets are aligned to the epoch (60 s buckets are UTC minutes). */
    bucketSeconds: z.number().int().min(1).max(86_400).default(60),
    /** An SA key not seen for this long starts a new generation (a new SA id) when it reappears. */
    saIdleSeconds: z.number().int().min(1).default(600),
    /**
     * A tunnel not seen for this long is dropped from the normalizer's memory (its rows stay
     * in the store); seen again, it comes back under the same id.
     */
    tunnelIdleSeconds: z
      .number()
      .int()
      .min(60)
      .default(7 * 86_400),
    /** Ended SAs kept in memory per tunnel direction for pairing and rekey checks. */
    saHistory: z.number().int().min(1).max(64).default(8),
    /**
     * A flow longer than this many buckets is apportioned as if it began that many buckets
     * before its end: an exporter with a broken clock must not make one flow write years of rows.
     */
    maxFlowSpanBuckets: z.number().int().min(1).default(1440),
    loss: z
      .object({
        /** A loss ratio (lost / sent) above this is cleared as bogus. */
        ceilingRatio: z.number().min(0).max(1).default(0.5),
        /**
         * Packets per second one SA direction can plausibly carry: a flow reporting more
         * lost packets than this rate allows over its duration (at least 1 s) is cleared.
         */
        maxPacketRate: z.number().positive().default(10_000_000),
      })
      .strict()
      .prefault({}),
    observationPoints: z.array(observationPointSchema).default([]),
    tunnels: z.array(configuredTunnelSchema).default([]),
  })
  .strict();

export type NormalizeConfig = z.infer<typeof normalizeConfigSchema>;
/** The YAML / JSON form before defaults (what a config file or a test writes). */
export type NormalizeConfigInput = z.input<typeof normalizeConfigSchema>;
export type ObservationPointConfig = NormalizeConfig['observationPoints'][number];
export type ConfiguredTunnel = NormalizeConfig['tunnels'][number];

/** Defaults applied, addresses canonicalised; throws a ZodError listing every problem. */
export function parseNormalizeConfig(input: unknown): NormalizeConfig {
  return normalizeConfigSchema.parse(input ?? {});
}
