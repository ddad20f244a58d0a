import { blocklistField, isExpired, normalizeCallerName, type BlocklistEntry } from './blocklist-entry.js';

/**
 * The in-memory form of the blocklist an edge matches calls against: a Map for numbers, one Map of
 * prefixes with the list of prefix lengths in use (longest first), a Map of normalized caller names.
 * A number is matched in O(its length): one lookup, then one per prefix length in use (at most 15),
 * never a scan of the entries. Lapsed entries are skipped at match time and dropped at the next reload.
 */
export class BlocklistIndex {
  private readonly numbers = new Map<string, BlocklistEntry>();
  private readonly prefixes = new Map<string, BlocklistEntry>();
  private readonly names = new Map<string, BlocklistEntry>();
  /** Lengths (with the "+") of the prefixes present, longest first, and how many prefixes have each. */
  private prefixLengths: number[] = [];
  private readonly lengthCounts = new Map<number, number>();

  constructor(entries: Iterable<BlocklistEntry> = []) {
    for (const e of entries) this.put(e);
  }

  get size(): number {
    return this.numbers.size + this.prefixes.size + this.names.size;
  }

  /** True when there are caller-name entries (the edge reads the From display name only then). */
  get hasNames(): boolean {
    return this.names.size !== 0;
  }

  /** Adds or replaces the entry for its (kind, value). */
  put(e: BlocklistEntry): void {
    if (e.kind === 'number') this.numbers.set(e.value, e);
    else if (e.kind === 'name') this.names.set(normalizeCallerName(e.value), e);
    else {
      if (!this.prefixes.has(e.value)) this.countLength(e.value.length, 1);
      this.prefixes.set(e.value, e);
    }
  }

  /** Removes the entry stored under `field` (blocklistField). */
  removeField(field: string): void {
    const colon = field.indexOf(':');
    const kind = field.slice(0, colon);
    const key = field.slice(colon + 1);
    if (kind === 'number') this.numbers.delete(key);
    else if (kind === 'name') this.names.delete(key);
    else if (kind === 'prefix' && this.prefixes.delete(key)) this.countLength(key.length, -1);
  }

  /** The entry blocking a caller number (E.164), the number itself first, then the longest prefix. */
  matchNumber(cli: string, now: number): BlocklistEntry | undefined {
    const exact = this.numbers.get(cli);
    if (exact !== undefined && !isExpired(exact, now)) return exact;
    for (const len of this.prefixLengths) {
      if (len > cli.length) continue;
      const e = this.prefixes.get(cli.length === len ? cli : cli.slice(0, len));
      if (e !== undefined && !isExpired(e, now)) return e;
    }
    return undefined;
  }

  /** The entry blocking a caller name (From display name), whatever its case and spacing. */
  matchName(name: string, now: number): BlocklistEntry | undefined {
    const e = this.names.get(normalizeCallerName(name));
    return e !== undefined && !isExpired(e, now) ? e : undefined;
  }

  /** The stored field of every entry (for tests and the mirror's bookkeeping). */
  fields(): string[] {
    return [...this.numbers.values(), ...this.prefixes.values(), ...this.names.values()].map((e) => blocklistField(e.kind, e.value));
  }

  /** Keeps the list of lengths in use; rebuilt (at most 16 entries) only when a length appears or goes. */
  private countLength(len: number, delta: 1 | -1): void {
    const n = (this.lengthCounts.get(len) ?? 0) + delta;
    if (n === 0) this.lengthCounts.delete(len);
    else this.lengthCounts.set(len, n);
    if (n === 0 || (delta === 1 && n === 1)) this.prefixLengths = [...this.lengthCounts.keys()].sort((a, b) => b - a);
  }
}
