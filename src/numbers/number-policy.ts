import { statSync } from 'node:fs';
import type { ApiKeyConfig, MethodPolicyConfig, NumbersConfig } from '../config/config-types.js';
import { isRingproofError } from '../errors/ringproof-error.js';
import type { Logger } from '../log/logger.js';
import { DenyPrefixList, readDenyPrefixFile } from './deny-prefix-list.js';
import { denyPrefixesPath } from './number-policy-defaults.js';
import { VERIFICATION_METHODS, type PhoneNumberInfo, type PolicyRule, type VerificationMethod } from './number-types.js';

export type PolicyVerdict =
  | { allowed: true; flags: string[] }
  | {
      allowed: false;
      rule: PolicyRule;
      message: string;
      /** prefix_denied: the listed prefix and its reason from the file. */
      prefix?: string;
      reason?: string;
    };

export interface ReloadResult {
  ok: boolean;
  /** Entries in force after the reload (the old list when it failed). */
  entries: number;
  error?: string;
}

export interface NumberPolicyOptions {
  numbers: NumbersConfig;
  keys: readonly ApiKeyConfig[];
  logger?: Logger;
  /** Called after every reload attempt (metrics). */
  onReload?: (r: ReloadResult) => void;
}

/**
 * The number policy per verification method, per API key, plus the deny-listed prefixes. The
 * prefix file is read at construction (a broken file stops start-up with its line named) and again
 * by reload(): on SIGHUP, on a change seen by watch(), or by the CLI. A reload that fails keeps the
 * list in force: a typo must never open the ranges it was meant to close.
 */
export class NumberPolicy {
  readonly denyPrefixesFile: string;
  private denyList: DenyPrefixList;
  private readonly global: Readonly<Record<VerificationMethod, MethodPolicyConfig>>;
  private readonly perKey: ReadonlyMap<string, Readonly<Record<VerificationMethod, MethodPolicyConfig>>>;
  private readonly logger: Logger | undefined;
  private readonly onReload: ((r: ReloadResult) => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** The file's identity when it was last read (a failed read counts too: retried only after the next edit). */
  private readStamp = '';

  constructor(opts: NumberPolicyOptions) {
    this.denyPrefixesFile = denyPrefixesPath(opts.numbers);
    this.readStamp = fileStamp(this.denyPrefixesFile);
    this.denyList = new DenyPrefixList(readDenyPrefixFile(this.denyPrefixesFile));
    this.global = opts.numbers.policy;
    const perKey = new Map<string, Record<VerificationMethod, MethodPolicyConfig>>();
    for (const key of opts.keys) {
      if (!key.policy) continue;
      const merged = { ...this.global };
      for (const method of VERIFICATION_METHODS) {
        const o = key.policy[method];
        // Field by field; a list given for a key replaces the global list (as lists do across config layers).
        if (o) merged[method] = { ...this.global[method], ...o };
      }
      perKey.set(key.name, merged);
    }
    this.perKey = perKey;
    this.logger = opts.logger;
    this.onReload = opts.onReload;
  }

  /** Entries in the deny-prefix list now in force. */
  get denyPrefixCount(): number {
    return this.denyList.size;
  }

  /** The policy a key's requests get for a method (the global one unless api.keys[].policy says otherwise). */
  methodPolicy(method: VerificationMethod, keyName: string | undefined): Readonly<MethodPolicyConfig> {
    return (keyName === undefined ? undefined : this.perKey.get(keyName))?.[method] ?? this.global[method];
  }

  /**
   * What the policy does with a classified number. Rules run from the operator's explicit lists
   * (prefixes, then countries) to the number's type, and the first that refuses is named.
   */
  evaluate(e164: string, info: PhoneNumberInfo, method: VerificationMethod, keyName?: string): PolicyVerdict {
    const p = this.methodPolicy(method, keyName);
    const denied = this.denyList.match(e164);
    if (denied) {
      return {
        allowed: false, rule: 'prefix_denied', prefix: denied.prefix, reason: denied.reason,
        message: `numbers starting ${denied.prefix} are refused: ${denied.reason}`,
      };
    }
    if (p.denyCountries.includes(info.country)) {
      return { allowed: false, rule: 'country_denied', message: `numbers of ${info.country} are refused for ${method}` };
    }
    if (p.allowCountries.length > 0 && !p.allowCountries.includes(info.country)) {
      return { allowed: false, rule: 'country_not_allowed', message: `${info.country} is not among the countries accepted for ${method}` };
    }
    if (info.type === 'unknown' && !p.allowedTypes.includes('unknown')) {
      return { allowed: false, rule: 'invalid_number', message: `the number is not in any allocated range of its region (type unknown)` };
    }
    if (info.type === 'voip') {
      if (p.voip === 'refuse') return { allowed: false, rule: 'voip_refused', message: `VoIP numbers are refused for ${method}` };
      return { allowed: true, flags: p.voip === 'flag' ? ['voip'] : [] };
    }
    if (!p.allowedTypes.includes(info.type)) {
      return { allowed: false, rule: 'type_not_allowed', message: `${info.type} numbers are not accepted for ${method}` };
    }
    return { allowed: true, flags: [] };
  }

  /** Re-reads the deny-prefix file; on any error the previous list stays in force. */
  reload(): ReloadResult {
    let result: ReloadResult;
    try {
      this.readStamp = fileStamp(this.denyPrefixesFile);
      this.denyList = new DenyPrefixList(readDenyPrefixFile(this.denyPrefixesFile));
      result = { ok: true, entries: this.denyList.size };
      this.logger?.info({ file: this.denyPrefixesFile, entries: result.entries }, 'number deny-prefix list reloaded');
    } catch (err) {
      const error = err instanceof Error ? err.message : String(err);
      result = { ok: false, entries: this.denyList.size, error };
      this.logger?.error({ code: isRingproofError(err) ? err.code : undefined, err: error, entriesKept: result.entries }, 'number deny-prefix list not reloaded; the previous list stays in force');
    }
    this.onReload?.(result);
    return result;
  }

  /**
   * Reloads when the file changes. Polls its stat (every intervalMs) against the stat of the last
   * read, rather than using fs.watch: editors and config management replace files by rename, which
   * inotify watches lose track of, and a change made before watching began is still seen.
   */
  watch(intervalMs = 2000): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      if (fileStamp(this.denyPrefixesFile) !== this.readStamp) this.reload();
    }, intervalMs);
    this.timer.unref();
  }

  close(): void {
    if (!this.timer) return;
    clearInterval(this.timer);
    this.timer = undefined;
  }
}

/** Inode, size and mtime: changes when the file is edited in place or replaced; "" when it cannot be read. */
function fileStamp(path: string): string {
  try {
    const st = statSync(path);
    return `${st.ino}:${st.size}:${st.mtimeMs}`;
  } catch {
    return '';
  }
}
