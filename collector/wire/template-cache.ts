// Templates and options state per exporter and observation domain, with a TTL from an
// injected clock, snapshots for persistence and a change list for the store.
//
// Key: exporter address + version + observation domain id (IPFIX) / source id (v9) +
// template id.
// - RFC 7011 §8 scopes a template to its Transport Session and Observation Domain, and
//   RFC 3954 §5.1 says the collector must use the source id together with the exporter's
//   address to tell apart export streams. Two domains of one router may reuse a template
//   id for different layouts, so the domain is part of the key.
// - The exporter's address, not address:port: exporters pick a new source port when they
//   restart (softflowd, pmacct and most routers do), so address:port keying (as
//   node-netflowv9 does) loses every template on a restart and keeps dead ones forever.
//   A restarted exporter re-announces its templates, which simply replace the old ones.
// - The version, because v9 source ids and IPFIX observation domains are different
//   namespaces: one host running a v9 and an IPFIX exporter (the corpus has both on
//   127.0.0.1, domain 0, template 1024) must not share templates.
// NetFlow v9 has no withdrawal, so templates not re-announced within the TTL are
// forgotten; IPFIX withdrawal (RFC 7011 §8.1) removes them at once. Templates learned
// over TCP do not expire (RFC 7011 §8: over TCP / SCTP they live as long as the session,
// and exporters do not re-announce them), over UDP they do (RFC 7011 §8.4).

import { compileTemplate } from './decode-plan.js';
import type { CompiledTemplate, FieldLengthProblem } from './decode-plan.js';
import type { OptionsRecord } from './data-record.js';
import type { BadTemplateReason } from './issues.js';
import type { FieldSpecifier, TemplateRecord, TemplateVersion } from './template.js';

export interface TemplateCacheOptions {
  /** Clock in epoch ms; the only source of time the cache has. Default Date.now. */
  readonly now?: () => number;
  /** A template not re-announced for this long is forgotten. Default 1 h; Infinity disables. */
  readonly templateTtlMs?: number;
  /** Bounds memory against exporters (or spoofed sources) announcing endless templates. */
  readonly maxTemplatesPerDomain?: number;
  readonly maxDomains?: number;
  /** Called synchronously for every change worth persisting (also queued for drainChanges). */
  readonly onChange?: (change: TemplateCacheChange) => void;
}

/** A learned template, as plain JSON-able data. */
export interface TemplateEntrySnapshot {
  readonly kind: 'template';
  /** Stable key for upserts: `t|<version>|<domain>|<template id>|<exporter>`. */
  readonly key: string;
  readonly exporter: string;
  readonly version: TemplateVersion;
  readonly domainId: number;
  readonly templateId: number;
  readonly options: boolean;
  readonly scopeFieldCount: number;
  readonly fields: readonly FieldSpecifier[];
  readonly learnedMs: number;
  readonly refreshedMs: number;
  /**
   * False for templates learned over TCP, which never expire while tunnelflow runs. A
   * restored template always expires: after a restart the TCP session is a new one, and
   * the exporter announces its templates again.
   */
  readonly expires: boolean;
}

/** What options data records announced for one exporter and domain. */
export interface OptionsStateSnapshot {
  readonly kind: 'options-state';
  /** `o|<version>|<domain>|<exporter>`. */
  readonly key: string;
  readonly exporter: string;
  readonly version: TemplateVersion;
  readonly domainId: number;
  /** IE 160 systemInitTimeMilliseconds, the base of IPFIX sysUpTime fields (IE 21/22). */
  readonly systemInitMs: number | null;
  /** Rate announced without a sampler / selector id (e.g. softflowd's interface-scoped options). */
  readonly defaultSamplingRate: number | null;
  readonly samplerRates: readonly { readonly id: number; readonly rate: number }[];
  readonly selectorRates: readonly { readonly id: number; readonly rate: number }[];
  readonly updatedMs: number;
}

export type TemplateSnapshot = TemplateEntrySnapshot | OptionsStateSnapshot;

export type TemplateCacheChange =
  | { readonly type: 'upsert'; readonly snapshot: TemplateSnapshot }
  | {
      readonly type: 'remove';
      readonly key: string;
      /** The template's scope and id, so that a persister never parses `key`. */
      readonly exporter: string;
      readonly version: TemplateVersion;
      readonly domainId: number;
      readonly templateId: number;
    };

/** Sampling and time facts of one exporter/domain, read by collector/produce. */
export interface DomainOptions {
  readonly systemInitMs: number | null;
  readonly defaultSamplingRate: number | null;
  readonly samplerRates: ReadonlyMap<number, number>;
  readonly selectorRates: ReadonlyMap<number, number>;
}

export type LearnOutcome =
  | {
      readonly outcome: 'new' | 'changed' | 'refreshed';
      readonly lengthProblems: readonly FieldLengthProblem[];
    }
  | { readonly outcome: 'rejected'; readonly reason: BadTemplateReason }
  | { readonly outcome: 'limit' };

interface TemplateEntry {
  readonly template: CompiledTemplate;
  readonly learnedMs: number;
  refreshedMs: number;
  /** Subject to the TTL (learned over UDP, or restored). */
  expires: boolean;
  /** refreshedMs as last reported through onChange, so refreshes are persisted sparingly. */
  reportedRefreshMs: number;
}

const MAX_SAMPLERS = 4096;

class DomainState implements DomainOptions {
  readonly templates = new Map<number, TemplateEntry>();
  /** Record lengths of templates that expired or were withdrawn, to estimate lost records. */
  readonly previousLengths = new Map<number, number>();
  systemInitMs: number | null = null;
  defaultSamplingRate: number | null = null;
  readonly samplerRates = new Map<number, number>();
  readonly selectorRates = new Map<number, number>();
  optionsUpdatedMs = 0;
  hasOptions = false;

  constructor(
    readonly key: string,
    readonly exporter: string,
    readonly version: TemplateVersion,
    readonly domainId: number,
  ) {}
}

function domainKey(exporter: string, version: TemplateVersion, domainId: number): string {
  return `${version}|${domainId}|${exporter}`;
}

function templateKey(domain: DomainState, templateId: number): string {
  return `t|${domain.version}|${domain.domainId}|${templateId}|${domain.exporter}`;
}

function optionsKey(domain: DomainState): string {
  return `o|${domain.version}|${domain.domainId}|${domain.exporter}`;
}

function sameDefinition(a: TemplateRecord, b: TemplateRecord): boolean {
  if (a.options !== b.options || a.scopeFieldCount !== b.scopeFieldCount) return false;
  if (a.fields.length !== b.fields.length) return false;
  for (let i = 0; i < a.fields.length; i++) {
    const x = a.fields[i]!;
    const y = b.fields[i]!;
    if (x.elementId !== y.elementId || x.length !== y.length || x.enterprise !== y.enterprise) return false;
  }
  return true;
}

/** A finite sampling rate of at least 1, or null. */
function validRate(rate: number): number | null {
  return Number.isFinite(rate) && rate >= 1 ? rate : null;
}

/**
 * The view a decoder gets of one exporter/domain for one datagram: the clock is read
 * once, and nothing is allocated for a domain until it learns something.
 */
export class DomainSession {
  constructor(
    private readonly cache: TemplateCache,
    private state: DomainState | undefined,
    readonly exporter: string,
    readonly version: TemplateVersion,
    readonly domainId: number,
    readonly nowMs: number,
    /** Templates learned in this session expire (UDP) or not (TCP). */
    readonly expiring: boolean,
  ) {}

  /** The live template with this id, or undefined (never learned, withdrawn or expired). */
  template(templateId: number): CompiledTemplate | undefined {
    const state = this.state;
    if (!state) return undefined;
    const entry = state.templates.get(templateId);
    if (!entry) return undefined;
    if (entry.expires && this.nowMs - entry.refreshedMs > this.cache.templateTtlMs) {
      this.cache.dropTemplate(state, templateId, entry);
      return undefined;
    }
    return entry.template;
  }

  /** Record length of an earlier definition of this template id, if one is remembered. */
  previousRecordLength(templateId: number): number | undefined {
    return this.state?.previousLengths.get(templateId);
  }

  learn(record: TemplateRecord): LearnOutcome {
    const state =
      this.state ?? (this.state = this.cache.createDomain(this.exporter, this.version, this.domainId));
    if (!state) return { outcome: 'limit' };
    return this.cache.learnTemplate(state, record, this.nowMs, this.expiring);
  }

  /** RFC 7011 §8.1 withdrawal of one template; true when it was known. */
  withdraw(templateId: number): boolean {
    const state = this.state;
    const entry = state?.templates.get(templateId);
    if (!state || !entry) return false;
    this.cache.dropTemplate(state, templateId, entry);
    return true;
  }

  /** RFC 7011 §8.1: template id 2 (or 3 in an options template set) withdraws all of that kind. */
  withdrawAll(options: boolean): number {
    const state = this.state;
    if (!state) return 0;
    let count = 0;
    for (const [id, entry] of [...state.templates]) {
      if (entry.template.record.options !== options) continue;
      this.cache.dropTemplate(state, id, entry);
      count++;
    }
    return count;
  }

  /** Takes note of sampling and system-init facts an options data record announces. */
  applyOptions(record: OptionsRecord): void {
    const state =
      this.state ?? (this.state = this.cache.createDomain(this.exporter, this.version, this.domainId));
    if (state) this.cache.applyOptions(state, record, this.nowMs);
  }
}

export class TemplateCache {
  readonly templateTtlMs: number;
  private readonly now: () => number;
  private readonly maxTemplatesPerDomain: number;
  private readonly maxDomains: number;
  private readonly onChange: ((change: TemplateCacheChange) => void) | undefined;
  private readonly domains = new Map<string, DomainState>();
  private readonly pending = new Map<string, TemplateCacheChange>();
  // The last domain looked up: most datagrams come from the exporter and domain the
  // previous one came from, and this skips building the key string for them.
  private lastExporter = '';
  private lastVersion = 0;
  private lastDomainId = -1;
  private lastState: DomainState | undefined = undefined;
  private epoch = 0;

  constructor(options: TemplateCacheOptions = {}) {
    this.now = options.now ?? Date.now;
    this.templateTtlMs = options.templateTtlMs ?? 3_600_000;
    this.maxTemplatesPerDomain = options.maxTemplatesPerDomain ?? 4096;
    this.maxDomains = options.maxDomains ?? 16_384;
    this.onChange = options.onChange;
  }

  /**
   * Opens one exporter/domain for one datagram (reads the clock once). `transport` says
   * whether templates learned from it expire (UDP) or last (TCP).
   */
  session(
    exporter: string,
    version: TemplateVersion,
    domainId: number,
    transport: 'udp' | 'tcp' = 'udp',
  ): DomainSession {
    return new DomainSession(
      this,
      this.lookup(exporter, version, domainId),
      exporter,
      version,
      domainId,
      this.now(),
      transport === 'udp',
    );
  }

  /** Sampling / system-init facts of one exporter/domain, if any options record gave them. */
  domainOptions(exporter: string, version: TemplateVersion, domainId: number): DomainOptions | undefined {
    const state = this.lookup(exporter, version, domainId);
    return state?.hasOptions ? state : undefined;
  }

  /**
   * Changes whenever some domain's options state changes, so a reader holding
   * domainOptions() can tell cheaply that it should read them again.
   */
  get optionsEpoch(): number {
    return this.epoch;
  }

  private lookup(exporter: string, version: TemplateVersion, domainId: number): DomainState | undefined {
    if (
      this.lastState &&
      exporter === this.lastExporter &&
      version === this.lastVersion &&
      domainId === this.lastDomainId
    ) {
      return this.lastState;
    }
    const state = this.domains.get(domainKey(exporter, version, domainId));
    if (state) {
      this.lastExporter = exporter;
      this.lastVersion = version;
      this.lastDomainId = domainId;
      this.lastState = state;
    }
    return state;
  }

  /** Number of live templates (expired ones included until they are looked up or swept). */
  get templateCount(): number {
    let count = 0;
    for (const domain of this.domains.values()) count += domain.templates.size;
    return count;
  }

  /** Forgets expired templates now (lookups do it lazily); returns how many. */
  sweep(): number {
    const nowMs = this.now();
    let count = 0;
    for (const domain of [...this.domains.values()]) {
      for (const [id, entry] of [...domain.templates]) {
        if (entry.expires && nowMs - entry.refreshedMs > this.templateTtlMs) {
          this.dropTemplate(domain, id, entry);
          count++;
        }
      }
      if (domain.templates.size === 0 && !domain.hasOptions) {
        this.domains.delete(domain.key);
        if (this.lastState === domain) this.lastState = undefined;
      }
    }
    return count;
  }

  /** Every live template and options state, as plain data (JSON-able). */
  snapshot(): TemplateSnapshot[] {
    const nowMs = this.now();
    const out: TemplateSnapshot[] = [];
    for (const domain of this.domains.values()) {
      for (const [id, entry] of domain.templates) {
        if (entry.expires && nowMs - entry.refreshedMs > this.templateTtlMs) continue;
        out.push(this.templateSnapshot(domain, id, entry));
      }
      if (domain.hasOptions) out.push(this.optionsSnapshot(domain));
    }
    return out;
  }

  /**
   * Loads snapshots (from the store, after a restart) so data decodes at once. Entries
   * that no longer compile, are malformed or expired are skipped; restoring reports no
   * changes (they are what the store already holds).
   */
  restore(snapshots: readonly TemplateSnapshot[]): { readonly restored: number; readonly skipped: number } {
    const nowMs = this.now();
    let restored = 0;
    let skipped = 0;
    for (const snapshot of snapshots) {
      if (this.restoreOne(snapshot, nowMs)) restored++;
      else skipped++;
    }
    return { restored, skipped };
  }

  /** Changes since the last call (latest per key), for a caller that persists in batches. */
  drainChanges(): TemplateCacheChange[] {
    // Called after every datagram, and nearly always with nothing queued.
    if (this.pending.size === 0) return [];
    const changes = [...this.pending.values()];
    this.pending.clear();
    return changes;
  }

  // The methods below are for DomainSession; they are public only to keep the two
  // classes in one file without a friend mechanism.

  createDomain(exporter: string, version: TemplateVersion, domainId: number): DomainState | undefined {
    const key = domainKey(exporter, version, domainId);
    let state = this.domains.get(key);
    if (state) return state;
    if (this.domains.size >= this.maxDomains) return undefined;
    state = new DomainState(key, exporter, version, domainId);
    this.domains.set(key, state);
    return state;
  }

  learnTemplate(state: DomainState, record: TemplateRecord, nowMs: number, expires: boolean): LearnOutcome {
    const existing = state.templates.get(record.templateId);
    if (existing && sameDefinition(existing.template.record, record)) {
      existing.refreshedMs = nowMs;
      existing.expires = expires;
      // Persist a refresh only now and then: enough for the TTL to survive a restart.
      if (nowMs - existing.reportedRefreshMs > this.templateTtlMs / 4) {
        existing.reportedRefreshMs = nowMs;
        this.emit({ type: 'upsert', snapshot: this.templateSnapshot(state, record.templateId, existing) });
      }
      return { outcome: 'refreshed', lengthProblems: [] };
    }
    const compiled = compileTemplate(record, state.version);
    if (!compiled.ok) return { outcome: 'rejected', reason: compiled.reason };
    if (!existing && state.templates.size >= this.maxTemplatesPerDomain) return { outcome: 'limit' };
    const entry: TemplateEntry = {
      template: compiled.template,
      learnedMs: nowMs,
      refreshedMs: nowMs,
      expires,
      reportedRefreshMs: nowMs,
    };
    state.templates.set(record.templateId, entry);
    this.emit({ type: 'upsert', snapshot: this.templateSnapshot(state, record.templateId, entry) });
    return { outcome: existing ? 'changed' : 'new', lengthProblems: compiled.lengthProblems };
  }

  dropTemplate(state: DomainState, templateId: number, entry: TemplateEntry): void {
    state.templates.delete(templateId);
    if (state.previousLengths.size >= this.maxTemplatesPerDomain) state.previousLengths.clear();
    if (entry.template.fixedRecordLength > 0)
      state.previousLengths.set(templateId, entry.template.fixedRecordLength);
    this.emit({
      type: 'remove',
      key: templateKey(state, templateId),
      exporter: state.exporter,
      version: state.version,
      domainId: state.domainId,
      templateId,
    });
  }

  applyOptions(state: DomainState, record: OptionsRecord, nowMs: number): void {
    let samplerId: number | null = null;
    let selectorId: number | null = null;
    let interval: number | null = null;
    let randomInterval: number | null = null;
    let packetInterval: number | null = null;
    let packetSpace = 0;
    let size: number | null = null;
    let population: number | null = null;
    let probability: number | null = null;
    let systemInitMs: number | null = null;
    for (const field of record.fields) {
      if (field.enterprise !== 0 || typeof field.value !== 'number') continue;
      // v9 scope fields are in their own namespace (RFC 3954 §6.1); none of them names a sampler.
      if (state.version === 9 && field.scope) continue;
      const value = field.value;
      switch (field.elementId) {
        case 48:
          samplerId = value;
          break;
        case 302:
          selectorId = value;
          break;
        case 34:
          interval = value;
          break;
        case 50:
          randomInterval = value;
          break;
        case 305:
          packetInterval = value;
          break;
        case 306:
          packetSpace = value;
          break;
        case 309:
          size = value;
          break;
        case 310:
          population = value;
          break;
        case 311:
          probability = value;
          break;
        case 160:
          systemInitMs = value > 0 ? value : null;
          break;
      }
    }
    // RFC 3954 §8: 1 out of N (SAMPLING_INTERVAL / FLOW_SAMPLER_RANDOM_INTERVAL);
    // RFC 5475 §6.5.2.1 systematic count-based: `interval` packets taken, then `space` skipped;
    // §6.5.2.4/5: n out of N, and probability p.
    let rate: number | null = null;
    if (randomInterval !== null && randomInterval > 0) rate = validRate(randomInterval);
    else if (interval !== null && interval > 0) rate = validRate(interval);
    else if (packetInterval !== null && packetInterval > 0)
      rate = validRate((packetInterval + packetSpace) / packetInterval);
    else if (size !== null && population !== null && size > 0) rate = validRate(population / size);
    else if (probability !== null && probability > 0) rate = validRate(1 / probability);
    let changed = false;
    if (rate !== null) {
      if (samplerId !== null) changed = setRate(state.samplerRates, samplerId, rate);
      else if (selectorId !== null) changed = setRate(state.selectorRates, selectorId, rate);
      else if (state.defaultSamplingRate !== rate) {
        state.defaultSamplingRate = rate;
        changed = true;
      }
    }
    if (systemInitMs !== null && state.systemInitMs !== systemInitMs) {
      state.systemInitMs = systemInitMs;
      changed = true;
    }
    if (!changed) return;
    this.epoch++;
    state.hasOptions = true;
    state.optionsUpdatedMs = nowMs;
    this.emit({ type: 'upsert', snapshot: this.optionsSnapshot(state) });
  }

  private emit(change: TemplateCacheChange): void {
    const key = change.type === 'remove' ? change.key : change.snapshot.key;
    this.pending.set(key, change);
    this.onChange?.(change);
  }

  private templateSnapshot(
    state: DomainState,
    templateId: number,
    entry: TemplateEntry,
  ): TemplateEntrySnapshot {
    const record = entry.template.record;
    return {
      kind: 'template',
      key: templateKey(state, templateId),
      exporter: state.exporter,
      version: state.version,
      domainId: state.domainId,
      templateId,
      options: record.options,
      scopeFieldCount: record.scopeFieldCount,
      fields: record.fields.map((f) => ({
        elementId: f.elementId,
        length: f.length,
        enterprise: f.enterprise,
      })),
      learnedMs: entry.learnedMs,
      refreshedMs: entry.refreshedMs,
      expires: entry.expires,
    };
  }

  private optionsSnapshot(state: DomainState): OptionsStateSnapshot {
    return {
      kind: 'options-state',
      key: optionsKey(state),
      exporter: state.exporter,
      version: state.version,
      domainId: state.domainId,
      systemInitMs: state.systemInitMs,
      defaultSamplingRate: state.defaultSamplingRate,
      samplerRates: [...state.samplerRates].map(([id, rate]) => ({ id, rate })),
      selectorRates: [...state.selectorRates].map(([id, rate]) => ({ id, rate })),
      updatedMs: state.optionsUpdatedMs,
    };
  }

  private restoreOne(snapshot: TemplateSnapshot, nowMs: number): boolean {
    // Snapshots come back from a database: check every field before trusting it.
    if (typeof snapshot !== 'object' || snapshot === null) return false;
    const { exporter, version, domainId } = snapshot;
    if (typeof exporter !== 'string' || (version !== 9 && version !== 10) || !isU32(domainId)) return false;
    if (snapshot.kind === 'template') {
      const { templateId, fields, scopeFieldCount, learnedMs, refreshedMs } = snapshot;
      if (!isU16(templateId) || !Array.isArray(fields) || !isU16(scopeFieldCount)) return false;
      if (typeof learnedMs !== 'number' || typeof refreshedMs !== 'number') return false;
      if (nowMs - refreshedMs > this.templateTtlMs) return false;
      const specifiers: FieldSpecifier[] = [];
      for (const f of fields as readonly unknown[]) {
        const field = f as Partial<FieldSpecifier> | null;
        if (!field || !isU16(field.elementId) || !isU16(field.length) || !isU32(field.enterprise))
          return false;
        specifiers.push({ elementId: field.elementId, length: field.length, enterprise: field.enterprise });
      }
      const record: TemplateRecord = {
        templateId,
        options: snapshot.options === true,
        scopeFieldCount,
        fields: specifiers,
      };
      const compiled = compileTemplate(record, version);
      if (!compiled.ok) return false;
      const state = this.createDomain(exporter, version, domainId);
      if (
        !state ||
        (state.templates.size >= this.maxTemplatesPerDomain && !state.templates.has(templateId))
      ) {
        return false;
      }
      state.templates.set(templateId, {
        template: compiled.template,
        learnedMs,
        refreshedMs,
        expires: true,
        reportedRefreshMs: refreshedMs,
      });
      return true;
    }
    if (snapshot.kind === 'options-state') {
      const state = this.createDomain(exporter, version, domainId);
      if (!state) return false;
      state.systemInitMs = typeof snapshot.systemInitMs === 'number' ? snapshot.systemInitMs : null;
      state.defaultSamplingRate =
        typeof snapshot.defaultSamplingRate === 'number' ? validRate(snapshot.defaultSamplingRate) : null;
      for (const [list, map] of [
        [snapshot.samplerRates, state.samplerRates],
        [snapshot.selectorRates, state.selectorRates],
      ] as const) {
        if (!Array.isArray(list)) continue;
        for (const item of list as readonly { id?: unknown; rate?: unknown }[]) {
          if (
            typeof item?.id === 'number' &&
            typeof item.rate === 'number' &&
            validRate(item.rate) !== null
          ) {
            if (map.size < MAX_SAMPLERS) map.set(item.id, item.rate);
          }
        }
      }
      state.optionsUpdatedMs = typeof snapshot.updatedMs === 'number' ? snapshot.updatedMs : nowMs;
      state.hasOptions = true;
      this.epoch++;
      return true;
    }
    return false;
  }
}

function setRate(map: Map<number, number>, id: number, rate: number): boolean {
  if (map.get(id) === rate) return false;
  if (!map.has(id) && map.size >= MAX_SAMPLERS) return false;
  map.set(id, rate);
  return true;
}

function isU16(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 0xffff;
}

function isU32(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 0xffffffff;
}
