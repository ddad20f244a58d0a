/**
 * Recognises SIP scanners (friendly-scanner, sipvicious, sipcli, …) by User-Agent. The configured
 * substrings are compiled once into one case-insensitive regular expression, so the per-request cost
 * is a single regex test whatever the list length.
 */
export interface ScannerDetector {
  isScanner(userAgent: string | undefined): boolean;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export function compileScannerDetector(substrings: readonly string[]): ScannerDetector {
  const parts = substrings.map((s) => s.trim()).filter((s) => s.length > 0).map(escapeRegExp);
  if (parts.length === 0) return { isScanner: () => false };
  const re = new RegExp(parts.join('|'), 'i');
  // A trunk's traffic carries one User-Agent (its SBC's) over and over: remember the last verdict.
  let lastUserAgent = '';
  let lastVerdict = false;
  return {
    isScanner(userAgent: string | undefined): boolean {
      if (userAgent === undefined || userAgent.length === 0) return false;
      if (userAgent !== lastUserAgent) {
        lastVerdict = re.test(userAgent);
        lastUserAgent = userAgent;
      }
      return lastVerdict;
    },
  };
}
