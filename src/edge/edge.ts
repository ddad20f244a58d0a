import type { RingproofConfig, SipConfig, TrunkConfig } from '../config/config-types.js';
import { ErrorCodes } from '../errors/codes.js';
import { RingproofError, isRingproofError } from '../errors/ringproof-error.js';
import type { BlocklistEntry } from '../abuse/blocklist-entry.js';
import type { BlocklistIndex } from '../abuse/blocklist-index.js';
import type { BlocklistMetrics } from '../abuse/blocklist-metrics.js';
import type { FloodGuard } from '../abuse/flood-guard.js';
import type { Logger } from '../log/logger.js';
import type { Metrics } from '../metrics/metrics.js';
import { CountBatch, type CounterChild, type PendingCount } from '../metrics/count-batch.js';
import { type AdmitDecision, DropReasons, type EdgeHandler, type InboundInvite, type SourceAddress } from '../sip/contract/index.js';
import { parseNameAddr } from '../sip/wire/index.js';
import { classifyVerstat } from '../trust/verstat.js';
import type { CallBlock, CallEvent } from './call-event.js';
import { extractCli } from './cli-extract.js';
import { DidExtractor } from './did-extract.js';
import type { EventSink } from './event-sink.js';
import { createPhoneNormalizer, type PhoneNormalizer } from './phone-normalize.js';
import { compileScannerDetector, type ScannerDetector } from './scanner-detect.js';
import { createTrunkAcl, type TrunkAcl } from './trunk-acl.js';

export interface EdgeOptions {
  config: Pick<RingproofConfig, 'trunks'> & { sip: Pick<SipConfig, 'scannerUserAgents' | 'unknownSource'> };
  metrics: Metrics;
  logger: Logger;
  sink: EventSink;
  /** Per-country normalizer cache size (default 10,000). */
  numberCacheSize?: number;
  /** The per-source flood guard (abuse.floodGuard); none = off. */
  floodGuard?: FloodGuard;
  /** The edge's copy of the blocklist (BlocklistMirror) and its counters; none = no blocklist (no Redis). */
  blocklist?: { source: { readonly current: BlocklistIndex }; metrics: BlocklistMetrics };
  /** The anomaly detectors (abuse.hammering, abuse.enumeration): told of every answered call with a CLI that is not blocked. */
  anomaly?: { observe(cli: string, now: number): void };
}

interface TrunkContext {
  config: TrunkConfig;
  normalizer: PhoneNormalizer;
  /** DIDs from Request-URIs, remembered per country (shared by the trunks of one country). */
  dids: DidExtractor;
  accept: AdmitDecision;
  /** call_events_total slots by CLI origin, counted locally and flushed when metrics are read. */
  events: Map<string, PendingCount>;
}

// Decisions are shared frozen objects so admit() allocates nothing per request.
const DROP_SCANNER: AdmitDecision = Object.freeze({ kind: 'drop', reason: DropReasons.SCANNER });
const DROP_UNKNOWN: AdmitDecision = Object.freeze({ kind: 'drop', reason: DropReasons.UNKNOWN_SOURCE });
const DROP_FLOOD: AdmitDecision = Object.freeze({ kind: 'drop', reason: DropReasons.FLOOD_BAN });
const FORBID: AdmitDecision = Object.freeze({ kind: 'forbid' });

/** What the edge compiles from the configuration; replaced as a whole by reload(). */
interface EdgeRules {
  readonly usingLoopbackDefault: boolean;
  readonly trunks: readonly TrunkConfig[];
  readonly acl: TrunkAcl;
  readonly scanners: ScannerDetector;
  readonly unknown: AdmitDecision;
  readonly byConfig: ReadonlyMap<TrunkConfig, TrunkContext>;
  readonly byName: ReadonlyMap<string, TrunkContext>;
}

/**
 * The edge logic behind every SIP engine: decides per request (scanner drop, trunk ACL) and turns
 * each answered INVITE into one CallEvent for the sink. All compilation (CIDRs, scanner regex,
 * per-country number normalizers) happens here, once, at construction and at reload().
 *
 * admit() is method-agnostic: an unknown source gets `forbid` (engine answers 403; an ACK is absorbed
 * by its transaction, never answered) or `drop` for every method, per sip.unknownSource.
 */
export class Edge implements EdgeHandler {
  private rules: EdgeRules;
  private readonly metrics: Metrics;
  private readonly logger: Logger;
  private readonly sink: EventSink;
  private readonly counts: CountBatch;
  private readonly numberCacheSize: number | undefined;
  private readonly floodGuard: FloodGuard | undefined;
  private readonly blocklist: EdgeOptions['blocklist'];
  private readonly anomaly: EdgeOptions['anomaly'];
  private readonly blockOf = new WeakMap<BlocklistEntry, { block: CallBlock; count: CounterChild }>();

  constructor(opts: EdgeOptions) {
    this.floodGuard = opts.floodGuard;
    this.blocklist = opts.blocklist;
    this.anomaly = opts.anomaly;
    this.metrics = opts.metrics;
    this.counts = new CountBatch(opts.metrics);
    this.logger = opts.logger;
    this.sink = opts.sink;
    this.numberCacheSize = opts.numberCacheSize;
    this.rules = this.compile(opts.config, undefined);
  }

  /** True when no trunk is configured and the loopback trunk is in use: log a warning. */
  get usingLoopbackDefault(): boolean {
    return this.rules.usingLoopbackDefault;
  }

  /** Trunks in effect. */
  get trunks(): readonly TrunkConfig[] {
    return this.rules.trunks;
  }

  /**
   * Compiles the trunks, scanner list and unknown-source policy of `config` (throws a RingproofError
   * naming the key when they do not compile) and returns the function that puts them in force. That
   * is one assignment, so a request sees either the old rules or the new, never a mix, and none is
   * lost. An INVITE admitted under the old rules by a trunk the new ones no longer have still gets
   * its CallEvent (drachtio answers asynchronously after admit()).
   */
  prepareReload(config: EdgeOptions['config']): () => void {
    const rules = this.compile(config, this.rules);
    return () => { this.rules = rules; };
  }

  private compile(config: EdgeOptions['config'], previous: EdgeRules | undefined): EdgeRules {
    const acl = createTrunkAcl(config.trunks);
    const byConfig = new Map<TrunkConfig, TrunkContext>();
    const byName = new Map<string, TrunkContext>();
    const normalizers = new Map<string, PhoneNormalizer>();
    const dids = new Map<string, DidExtractor>();
    acl.trunks.forEach((trunk, i) => {
      if (byName.has(trunk.name)) {
        throw new RingproofError(ErrorCodes.CONFIG_INVALID, `trunks[${i}].name: duplicate trunk name "${trunk.name}"`);
      }
      const country = trunk.defaultCountry.toUpperCase();
      let normalizer = normalizers.get(country);
      if (normalizer === undefined) {
        try {
          normalizer = createPhoneNormalizer(country, this.numberCacheSize === undefined ? {} : { cacheSize: this.numberCacheSize });
        } catch (err) {
          throw new RingproofError(
            ErrorCodes.CONFIG_INVALID,
            `trunks[${i}].defaultCountry: "${trunk.defaultCountry}" is not a supported country (trunk "${trunk.name}")`,
            { cause: err },
          );
        }
        normalizers.set(country, normalizer);
        dids.set(country, new DidExtractor(normalizer));
      }
      const ctx: TrunkContext = {
        config: trunk,
        normalizer,
        dids: dids.get(country) as DidExtractor,
        accept: Object.freeze({ kind: 'accept', trunk: trunk.name, rejectCode: trunk.rejectCode }),
        // A trunk kept across a reload keeps its counter slots.
        events: previous?.byName.get(trunk.name)?.events ?? new Map(),
      };
      byConfig.set(trunk, ctx);
      byName.set(trunk.name, ctx);
    });
    for (const [name, ctx] of previous?.byName ?? []) {
      if (!byName.has(name)) byName.set(name, ctx);
    }
    return {
      usingLoopbackDefault: acl.usingLoopbackDefault,
      trunks: acl.trunks,
      acl,
      scanners: compileScannerDetector(config.sip.scannerUserAgents),
      unknown: config.sip.unknownSource === 'drop' ? DROP_UNKNOWN : FORBID,
      byConfig,
      byName,
    };
  }

  admit(source: SourceAddress, _method: string, userAgent: string | undefined): AdmitDecision {
    const rules = this.rules;
    if (userAgent !== undefined && rules.scanners.isScanner(userAgent)) return DROP_SCANNER;
    const trunk = rules.acl.lookup(source.address);
    // After the scanner drop (scanners stay a reason of their own), before any answer: a banned
    // source gets silence whatever it sends.
    if (this.floodGuard !== undefined && this.floodGuard.check(source.address, trunk !== undefined)) return DROP_FLOOD;
    if (trunk === undefined) return rules.unknown;
    return (rules.byConfig.get(trunk) as TrunkContext).accept;
  }

  onInviteAnswered(invite: InboundInvite, trunk: string, code: number): void {
    try {
      const ctx = this.rules.byName.get(trunk);
      if (ctx === undefined) {
        throw new RingproofError(ErrorCodes.INTERNAL, `onInviteAnswered for unknown trunk "${trunk}"`);
      }
      const event = this.buildEvent(invite, ctx, code);
      let count = ctx.events.get(event.cliOrigin);
      if (count === undefined) {
        count = this.counts.track(this.metrics.callEvents.labels({ trunk: ctx.config.name, cli_origin: event.cliOrigin }));
        ctx.events.set(event.cliOrigin, count);
      }
      count.n++;
      if (this.blocklist !== undefined) this.checkBlocklist(event, invite);
      if (this.anomaly !== undefined && event.cli !== null && event.blocked === undefined) this.anomaly.observe(event.cli, event.receivedAt);
      this.sink.publish(event);
    } catch (err) {
      this.failed(invite, err);
    }
  }

  private buildEvent(invite: InboundInvite, ctx: TrunkContext, code: number): CallEvent {
    const cli = extractCli(invite, ctx.config.cliSources, ctx.normalizer);
    const did = ctx.dids.extract(invite.requestUri, invite);
    const identities = invite.headerValues('identity');
    return {
      v: 1,
      trunk: ctx.config.name,
      source: { address: invite.source.address, port: invite.source.port },
      transport: invite.source.transport,
      callId: invite.callId,
      cli: cli.cli,
      cliOrigin: cli.origin,
      cliRaw: cli.raw,
      did: did.did,
      didRaw: did.raw,
      verstat: cli.verstat,
      trust: classifyVerstat(cli.verstat),
      // headerValues split one line at commas; joining restores it (an Identity value has no comma
      // outside its info URI) and keeps several Identity headers together.
      identity: identities.length === 0 ? null : identities.join(','),
      userAgent: invite.header('user-agent') ?? null,
      rejectCode: code,
      receivedAt: invite.receivedAt,
      // Set by checkBlocklist; in the literal so that marking a call keeps the event's shape (no
      // hidden-class transition, no out-of-object property store per blocked call).
      blocked: undefined,
    };
  }

  /** Marks the event blocked when its CLI, a prefix of it, or its caller name is on the blocklist. */
  private checkBlocklist(event: CallEvent, invite: InboundInvite): void {
    const { source, metrics } = this.blocklist as NonNullable<EdgeOptions['blocklist']>;
    const index = source.current;
    if (index.size === 0) return;
    let hit: BlocklistEntry | undefined;
    if (event.cli !== null) hit = index.matchNumber(event.cli, event.receivedAt);
    if (hit === undefined && index.hasNames) {
      const from = invite.header('from');
      // "<sip:…>" and a bare URI carry no display name: no parse for the usual From.
      if (from !== undefined && from.charCodeAt(0) !== 0x3c && !/^(?:sips?|tel):/i.test(from)) {
        const name = parseNameAddr(from)?.displayName;
        if (name !== undefined) hit = index.matchName(name, event.receivedAt);
      }
    }
    if (hit === undefined) return;
    // Per entry once: the event's (frozen, shared) block and its counter slot; a flood of blocked
    // calls then allocates nothing here.
    let b = this.blockOf.get(hit);
    if (b === undefined) {
      b = { block: Object.freeze({ kind: hit.kind, value: hit.value, reason: hit.reason }), count: metrics.blocked(hit.kind, hit.reason) };
      this.blockOf.set(hit, b);
    }
    event.blocked = b.block;
    b.count.inc();
  }

  private failed(invite: InboundInvite, err: unknown): void {
    let transport: string = 'unknown';
    let callId: string | undefined;
    try {
      transport = invite.source.transport;
      callId = invite.callId;
    } catch {
      // The invite object itself is broken; log what we have.
    }
    try {
      this.metrics.sipDrops.inc({ reason: DropReasons.CALL_EVENT_FAILED, transport });
      this.logger.error(
        { code: isRingproofError(err) ? err.code : ErrorCodes.INTERNAL, err, callId },
        'call event not produced',
      );
    } catch {
      // Never let a metrics/logging failure reach the engine's hot path.
    }
  }
}
