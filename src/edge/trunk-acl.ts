import type { TrunkConfig } from '../config/config-types.js';
import { ErrorCodes } from '../errors/codes.js';
import { RingproofError } from '../errors/ringproof-error.js';
import { compileIpMatcher, parseCidr, type IpMatcher } from '../net/ip-matcher.js';

/**
 * The trunk used when the configuration names none, so a bare `ringproof serve` answers local SIPp
 * tests. Only loopback can reach it; the daemon logs a warning when it is in use.
 */
export const LOOPBACK_TRUNK: Readonly<TrunkConfig> = Object.freeze<TrunkConfig>({
  name: 'loopback',
  sources: ['127.0.0.0/8', '::1'],
  defaultCountry: 'US',
  rejectCode: 486,
  cliSources: ['pai', 'rpid', 'from'],
});

export interface TrunkAcl {
  /** The trunk whose sources contain the address (most specific CIDR wins), or undefined. */
  lookup(address: string): TrunkConfig | undefined;
  /** The trunks in effect (the configured ones, or the loopback default). */
  readonly trunks: readonly TrunkConfig[];
  /** True when no trunk was configured and LOOPBACK_TRUNK is in use: log a warning at start-up. */
  readonly usingLoopbackDefault: boolean;
}

export interface TrunkAclOptions {
  /** Address→trunk results kept per process. */
  cacheSize?: number;
}

/** Compiles the trunk list once; throws RingproofError CONFIG_INVALID naming the bad source. */
export function createTrunkAcl(configured: readonly TrunkConfig[], opts: TrunkAclOptions = {}): TrunkAcl {
  const usingLoopbackDefault = configured.length === 0;
  const trunks: readonly TrunkConfig[] = usingLoopbackDefault ? [LOOPBACK_TRUNK] : configured;
  const rules: { cidr: string; value: TrunkConfig }[] = [];
  trunks.forEach((trunk, i) => {
    trunk.sources.forEach((cidr, j) => {
      if (parseCidr(cidr) === undefined) {
        throw new RingproofError(
          ErrorCodes.CONFIG_INVALID,
          `trunks[${i}].sources[${j}]: not an IP address or CIDR: "${cidr}" (trunk "${trunk.name}")`,
        );
      }
      rules.push({ cidr, value: trunk });
    });
  });
  const matcher: IpMatcher<TrunkConfig> = compileIpMatcher(rules, opts.cacheSize === undefined ? {} : { cacheSize: opts.cacheSize });
  return {
    lookup: (address) => matcher.match(address),
    trunks,
    usingLoopbackDefault,
  };
}
