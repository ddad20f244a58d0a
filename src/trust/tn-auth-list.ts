import { AsnArray, AsnConvert, AsnProp, AsnPropTypes, AsnType, AsnTypeTypes } from '@peculiar/asn1-schema';
import { Certificate } from '@peculiar/asn1-x509';

/** id-pe-TNAuthList (RFC 8226): the numbers or Service Provider Code a STIR certificate vouches for. */
export const TN_AUTH_LIST_OID = '1.3.6.1.5.5.7.1.26';

// RFC 8226's module uses EXPLICIT TAGS:
//   TNAuthorizationList ::= SEQUENCE SIZE (1..MAX) OF TNEntry
//   TNEntry ::= CHOICE { spc [0] ServiceProviderCode, range [1] TelephoneNumberRange, one [2] TelephoneNumber }
//   TelephoneNumberRange ::= SEQUENCE { start TelephoneNumber, count INTEGER (2..MAX) }
// The schema classes are declared with asn1-schema's decorators called as functions (no decorator
// syntax, so no compiler flag); the library does all the DER decoding.
class TelephoneNumberRange {
  declare start: string;
  declare count: number;
}
AsnType({ type: AsnTypeTypes.Sequence })(TelephoneNumberRange);
AsnProp({ type: AsnPropTypes.IA5String })(TelephoneNumberRange.prototype, 'start');
AsnProp({ type: AsnPropTypes.Integer })(TelephoneNumberRange.prototype, 'count');

class TnEntry {
  declare spc?: string;
  declare range?: TelephoneNumberRange;
  declare one?: string;
}
AsnType({ type: AsnTypeTypes.Choice })(TnEntry);
AsnProp({ type: AsnPropTypes.IA5String, context: 0 })(TnEntry.prototype, 'spc');
AsnProp({ type: TelephoneNumberRange, context: 1 })(TnEntry.prototype, 'range');
AsnProp({ type: AsnPropTypes.IA5String, context: 2 })(TnEntry.prototype, 'one');

class TnAuthorizationList extends AsnArray<TnEntry> {}
AsnType({ type: AsnTypeTypes.Sequence, itemType: TnEntry })(TnAuthorizationList);

export interface TnAuthList {
  spcs: string[];
  tns: string[];
  ranges: Array<{ start: string; count: number }>;
}

/**
 * The TNAuthList of a DER certificate: undefined when the certificate has none; throws when the
 * certificate or the extension does not decode (the caller turns that into certificate_invalid).
 */
export function readTnAuthList(der: Uint8Array): TnAuthList | undefined {
  const cert = AsnConvert.parse(der, Certificate);
  const ext = cert.tbsCertificate.extensions?.find((e) => e.extnID === TN_AUTH_LIST_OID);
  if (ext === undefined) return undefined;
  const list = AsnConvert.parse(ext.extnValue.buffer, TnAuthorizationList);
  const out: TnAuthList = { spcs: [], tns: [], ranges: [] };
  for (const entry of list) {
    if (entry.spc !== undefined) out.spcs.push(entry.spc);
    else if (entry.one !== undefined) out.tns.push(entry.one);
    else if (entry.range !== undefined) out.ranges.push({ start: entry.range.start, count: entry.range.count });
  }
  if (out.spcs.length + out.tns.length + out.ranges.length === 0) throw new Error('empty TNAuthList');
  return out;
}

/**
 * Whether a TNAuthList vouches for a canonical TN. An SPC certificate covers its provider's numbers
 * (SHAKEN checks no further); a TN-list certificate (RFC 9060 delegate) must list the number.
 */
export function tnAuthorized(list: TnAuthList, tn: string): boolean {
  if (list.spcs.length > 0) return true;
  if (list.tns.includes(tn)) return true;
  const n = BigInt(tn);
  return list.ranges.some((r) => {
    if (!/^\d+$/.test(r.start) || r.start.length !== tn.length) return false;
    const start = BigInt(r.start);
    return n >= start && n < start + BigInt(r.count);
  });
}
