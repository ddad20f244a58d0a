import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { OutboundTrunkConfig, SipTarget } from '../../config/config-types.js';
import { ErrorCodes } from '../../errors/codes.js';
import { RingproofError } from '../../errors/ringproof-error.js';

/** A trunk's next hop (its outbound proxy, else its target) with the IP address it resolved to. */
export type TrunkHop = SipTarget & { ip: string };

/**
 * Resolves a trunk's next hop once, at start: every request of the trunk goes to this address and
 * nowhere else (a DNS answer changing later cannot send calls elsewhere).
 */
export async function resolveTrunkHop(t: OutboundTrunkConfig): Promise<TrunkHop> {
  const hop = t.outboundProxy ?? t.target;
  if (isIP(hop.host) !== 0) return { ...hop, ip: hop.host };
  try {
    return { ...hop, ip: (await lookup(hop.host)).address };
  } catch (err) {
    throw new RingproofError(ErrorCodes.CONFIG_INVALID, `outbound.trunks ${t.name}: cannot resolve ${hop.host}: ${(err as Error).message}`, { cause: err });
  }
}
