import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate, type Name } from '@peculiar/asn1-x509';

/**
 * What a CRL entry names a certificate by (RFC 5280 §5.3.3): its issuer and serial number. The
 * issuer is compared as DER, the serial as hex without leading zero bytes, so the same certificate
 * gives the same id whether it came from an x5u chain or a CRL.
 */
export function certificateIdOf(issuerDerHex: string, serial: ArrayBuffer): string {
  return `${issuerDerHex}|${serialHex(serial)}`;
}

export function nameDerHex(name: Name): string {
  return Buffer.from(AsnConvert.serialize(name)).toString('hex');
}

/** The id of a DER certificate (throws on one that does not decode). */
export function certificateId(der: Uint8Array): string {
  const c = AsnConvert.parse(der, Certificate);
  return certificateIdOf(nameDerHex(c.tbsCertificate.issuer), c.tbsCertificate.serialNumber);
}

function serialHex(serial: ArrayBuffer): string {
  const hex = Buffer.from(serial).toString('hex').replace(/^(00)+/, '');
  return hex === '' ? '00' : hex;
}
