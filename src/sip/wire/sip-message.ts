import type { InboundInvite, SourceAddress } from '../contract/index.js';
import { splitHeaderValues } from './split-header-values.js';

/**
 * A parsed SIP message. Header names are canonical (lowercase, compact forms expanded); values are the
 * raw latin1 text (folded lines joined by a space, outer whitespace trimmed), so they can be written
 * back byte for byte. The fields the UAS needs on every request are lifted out at parse time; the rest
 * is looked up lazily, which is what the edge does for CLI/DID headers.
 */
export class SipMessage implements InboundInvite {
  isRequest = true;
  method = '';
  requestUri = '';
  status = 0;
  readonly names: string[] = [];
  readonly values: string[] = [];
  /** Every Via header line's value, top first. */
  readonly via: string[] = [];
  from: string | undefined;
  to: string | undefined;
  callId = '';
  cseq: string | undefined;
  cseqNum = -1;
  cseqMethod = '';
  maxForwards: number | undefined;
  userAgent: string | undefined;
  contentLength: number | undefined;
  /** Offsets of the body in the decoded text. */
  bodyStart = 0;
  /** Set by the engine on receipt. */
  source: SourceAddress = NO_SOURCE;
  receivedAt = 0;

  /**
   * Which of the rarely present headers the edge asks about on every INVITE (RARE_HEADER_BITS) the
   * message has, as bits; -1 (all) until a parser fills it. An absent one is then answered without
   * searching the names.
   */
  rareHeaders = -1;

  header(name: string): string | undefined {
    const bit = rareHeaderBit(name);
    if (bit !== 0 && (this.rareHeaders & bit) === 0) return undefined;
    const i = this.names.indexOf(name);
    return i === -1 ? undefined : this.values[i];
  }

  headerValues(name: string): readonly string[] {
    // Most headers asked for (PAI, RPID, Privacy, Identity) are absent: no array for those.
    const bit = rareHeaderBit(name);
    if ((bit !== 0 && (this.rareHeaders & bit) === 0) || this.names.indexOf(name) === -1) return NONE;
    const out: string[] = [];
    for (let i = 0; i < this.names.length; i++) {
      if (this.names[i] === name) {
        for (const v of splitHeaderValues(this.values[i] ?? '')) out.push(v);
      }
    }
    return out;
  }
}

const NONE: readonly string[] = Object.freeze([]);
const NO_SOURCE: SourceAddress = Object.freeze({ address: '', port: 0, transport: 'udp' });

/**
 * The bit of a header in SipMessage.rareHeaders, or 0 for the others (not tracked).
 * Header names come in as string constants, so these compares are mostly pointer compares.
 */
export function rareHeaderBit(name: string): number {
  switch (name) {
    case 'require': return 1;
    case 'privacy': return 2;
    case 'p-asserted-identity': return 4;
    case 'remote-party-id': return 8;
    case 'identity': return 16;
    default: return 0;
  }
}
