import { canonicalHeaderName, parseMessage, type SipMessage, splitHeaderValues } from '../../wire/index.js';
import type { InboundInvite, SourceAddress } from '../../contract/index.js';
import type { SrfRequest } from './srf-seam.js';

/**
 * An INVITE received through drachtio-srf, seen as the edge's InboundInvite.
 *
 * Headers come from ringproof's own parser run on the raw text drachtio-server forwarded, not from
 * srf's header map: srf joins repeated header lines with commas and keeps X-/P- names in their
 * original case, `getParsedHeader` returns only the first of several P-Asserted-Identity values and
 * `callingNumber` is empty for tel: URIs. One parser for both engines means CLI/DID extraction is
 * exactly the native engine's. The parse is lazy: the reject is sent before any header is read.
 */
export class DrachtioInvite implements InboundInvite {
  readonly callId: string;
  readonly requestUri: string;
  private parsed: SipMessage | undefined;
  private fallback: Map<string, string> | undefined;

  constructor(
    private readonly req: SrfRequest,
    readonly source: SourceAddress,
    readonly receivedAt: number,
  ) {
    this.callId = req.get('call-id') ?? '';
    this.requestUri = req.uri;
  }

  header(name: string): string | undefined {
    const msg = this.message();
    if (msg) return msg.header(name);
    const v = this.srfHeaders().get(name);
    return v === undefined ? undefined : splitHeaderValues(v)[0];
  }

  headerValues(name: string): readonly string[] {
    const msg = this.message();
    if (msg) return msg.headerValues(name);
    const v = this.srfHeaders().get(name);
    return v === undefined ? [] : splitHeaderValues(v);
  }

  private message(): SipMessage | undefined {
    if (this.parsed === undefined && this.fallback === undefined) {
      const raw = this.req.msg.raw;
      const result = typeof raw === 'string' ? parseMessage(raw) : undefined;
      // An unparseable raw text (srf accepted it, we do not) falls back to srf's header map.
      if (result && result.problem !== 'unparseable') this.parsed = result.msg;
      else this.fallback = new Map();
    }
    return this.parsed;
  }

  /** srf's header map under canonical names; used only when the raw text is unusable. */
  private srfHeaders(): Map<string, string> {
    const map = this.fallback as Map<string, string>;
    if (map.size === 0) {
      for (const [k, v] of Object.entries(this.req.msg.headers)) {
        const name = canonicalHeaderName(k);
        const prev = map.get(name);
        map.set(name, prev === undefined ? String(v).trim() : `${prev},${String(v).trim()}`);
      }
    }
    return map;
  }
}
