import type { RingproofConfig, SipConfig, TrunkConfig } from '../config/config-types.js';
import { ErrorCodes } from '../errors/codes.js';
import { RingproofError, isRingproofError } from '../errors/ringproof-error.js';
import type { Logger } from '../log/logger.js';
import type { Metrics } from '../metrics/metrics.js';
import { CountBatch, type PendingCount } from '../metrics/count-batch.js';
import { type AdmitDecision, DropReasons, type EdgeHandler, type InboundInvite, type SourceAddress } from '../sip/contract/index.js';
import { classifyVerstat } from '../trust/verstat.js';
import type { CallEvent } from './call-event.js';
import { extractCli } from './cli-extract.js';
import { extractDid } from './did-extract.js';
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
}

interface TrunkContext {
  config: TrunkConfig;
  normalizer: PhoneNormalizer;
  accept: AdmitDecision;
  /** call_events_total slots by CLI origin, counted locally and flushed when metrics are read. */
  events: Map<string, PendingCount>;
}

// Decisions are shared frozen objects so admit() allocates nothing per request.
const DROP_SCANNER: AdmitDecision = Object.freeze({ kind: 'drop', reason: DropReasons.SCANNER });
const DROP_UNKNOWN: AdmitDecision = Object.freeze({ kind: 'drop', reason: DropReasons.UNKNOWN_SOURCE });
const FORBID: AdmitDecision = Object.freeze({ kind: 'forbid' });

/**
 * The edge logic behind every SIP engine: decides per request (scanner drop, trunk ACL) and turns
 * each answered INVITE into one CallEvent for the sink. All compilation (CIDRs, scanner regex,
 * per-country number normalizers) happens here, once, at construction.
 *
 * admit() is method-agnostic: an unknown source gets `forbid` (engine answers 403; an ACK is absorbed
 * by its transaction, never answered) or `drop` for every method, per sip.unknownSource.
 */
export class Edge implements EdgeHandler {
  /** True when no trunk is configured and the loopback trunk is in use: log a warning. */
  readonly usingLoopbackDefault: boolean;
  /** Trunks in effect. */
  readonly trunks: readonly TrunkConfig[];

  private readonly acl: TrunkAcl;
  private readonly scanners: ScannerDetector;
  private readonly unknown: AdmitDecision;
  private readonly byConfig = new Map<TrunkConfig, TrunkContext>();
  private readonly byName = new Map<string, TrunkContext>();
  private readonly metrics: Metrics;
  private readonly logger: Logger;
  private readonly sink: EventSink;
  private readonly counts: CountBatch;

  constructor(opts: EdgeOptions) {
    this.metrics = opts.metrics;
    this.counts = new CountBatch(opts.metrics);
    this.logger = opts.logger;
    this.sink = opts.sink;
    this.acl = createTrunkAcl(opts.config.trunks);
    this.usingLoopbackDefault = this.acl.usingLoopbackDefault;
    this.trunks = this.acl.trunks;
    this.scanners = compileScannerDetector(opts.config.sip.scannerUserAgents);
    this.unknown = opts.config.sip.unknownSource === 'drop' ? DROP_UNKNOWN : FORBID;

    const normalizers = new Map<string, PhoneNormalizer>();
    this.trunks.forEach((trunk, i) => {
      if (this.byName.has(trunk.name)) {
        throw new RingproofError(ErrorCodes.CONFIG_INVALID, `trunks[${i}].name: duplicate trunk name "${trunk.name}"`);
      }
      const country = trunk.defaultCountry.toUpperCase();
      let normalizer = normalizers.get(country);
      if (normalizer === undefined) {
        try {
          normalizer = createPhoneNormalizer(country, opts.numberCacheSize === undefined ? {} : { cacheSize: opts.numberCacheSize });
        } catch (err) {
          throw new RingproofError(
            ErrorCodes.CONFIG_INVALID,
            `trunks[${i}].defaultCountry: "${trunk.defaultCountry}" is not a supported country (trunk "${trunk.name}")`,
            { cause: err },
          );
        }
        normalizers.set(country, normalizer);
      }
      const ctx: TrunkContext = {
        config: trunk,
        normalizer,
        accept: Object.freeze({ kind: 'accept', trunk: trunk.name, rejectCode: trunk.rejectCode }),
        events: new Map(),
      };
      this.byConfig.set(trunk, ctx);
      this.byName.set(trunk.name, ctx);
    });
  }

  admit(source: SourceAddress, _method: string, userAgent: string | undefined): AdmitDecision {
    if (userAgent !== undefined && this.scanners.isScanner(userAgent)) return DROP_SCANNER;
    const trunk = this.acl.lookup(source.address);
    if (trunk === undefined) return this.unknown;
    return (this.byConfig.get(trunk) as TrunkContext).accept;
  }

  onInviteAnswered(invite: InboundInvite, trunk: string, code: number): void {
    try {
      const ctx = this.byName.get(trunk);
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
      this.sink.publish(event);
    } catch (err) {
      this.failed(invite, err);
    }
  }

  private buildEvent(invite: InboundInvite, ctx: TrunkContext, code: number): CallEvent {
    const cli = extractCli(invite, ctx.config.cliSources, ctx.normalizer);
    const did = extractDid(invite.requestUri, invite, ctx.normalizer);
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
    };
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
