import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import type { OutboundTrunkConfig } from '../../config/config-types.js';

/** The fixed parts of one flash call's requests (RFC 3261 §8.1.1), written once per call. */
export interface CallIdentity {
  requestUri: string;
  from: string;
  to: string;
  callId: string;
  /** "Route: …\r\n" or empty. */
  routeLine: string;
  /** "SIP/2.0/UDP host:port" (the Via without branch). */
  viaSentBy: string;
  contact: string;
  pai: string | undefined;
}

export const ALLOW_UAC = 'INVITE, ACK, CANCEL, BYE, OPTIONS';

/** A branch with the RFC 3261 magic cookie, unguessable. */
export function newBranch(): string {
  return `z9hG4bK${randomBytes(9).toString('base64url')}`;
}

export function newTag(): string {
  return randomBytes(6).toString('hex');
}

function hostText(host: string): string {
  return isIP(host) === 6 ? `[${host}]` : host;
}

function user(number: string, format: OutboundTrunkConfig['numberFormat']): string {
  return format === 'digits' ? number.slice(1) : number;
}

/** How a call to `to` from `cli` is addressed on a trunk, whatever the engine that sends it. */
export interface TrunkAddressing {
  requestUri: string;
  /** From's URI (the tag is added per call). */
  fromUri: string;
  /** The To header value. */
  to: string;
  /** The outbound proxy's Route value (loose routing), or undefined. */
  route: string | undefined;
  /** The P-Asserted-Identity value, or undefined when the trunk does not take one. */
  pai: string | undefined;
}

export function trunkAddressing(trunk: OutboundTrunkConfig, to: string, cli: string): TrunkAddressing {
  const t = trunk.target;
  const uriTransport = t.transport === 'tcp' ? ';transport=tcp' : '';
  const fromUri = `sip:${user(cli, trunk.numberFormat)}@${hostText(trunk.fromDomain)};user=phone`;
  const proxy = trunk.outboundProxy;
  return {
    requestUri: `sip:${user(to, trunk.numberFormat)}@${hostText(trunk.domain)}:${t.port}${uriTransport};user=phone`,
    fromUri,
    to: `<sip:${user(to, trunk.numberFormat)}@${hostText(trunk.domain)};user=phone>`,
    route: proxy ? `<sip:${hostText(proxy.host)}:${proxy.port}${proxy.transport === 'tcp' ? ';transport=tcp' : ''};lr>` : undefined,
    pai: trunk.pai ? `<${fromUri}>` : undefined,
  };
}

/** Request-URI, From (with tag), To, Call-ID, Route, Via and Contact of a new call on a trunk. */
export function callIdentity(
  trunk: OutboundTrunkConfig,
  to: string,
  cli: string,
  local: { host: string; port: number },
): CallIdentity {
  const a = trunkAddressing(trunk, to, cli);
  const hop = trunk.outboundProxy ?? trunk.target;
  const lh = hostText(local.host);
  return {
    requestUri: a.requestUri,
    from: `<${a.fromUri}>;tag=${newTag()}`,
    to: a.to,
    callId: `${randomBytes(12).toString('hex')}@ringproof`,
    routeLine: a.route === undefined ? '' : `Route: ${a.route}\r\n`,
    viaSentBy: `SIP/2.0/${hop.transport.toUpperCase()} ${lh}:${local.port}`,
    contact: `<sip:${user(cli, trunk.numberFormat)}@${lh}:${local.port}${hop.transport === 'tcp' ? ';transport=tcp' : ''}>`,
    pai: a.pai,
  };
}

/** A minimal audio offer (RFC 4566) on the discard port: we never send or expect media. */
export function minimalSdp(localHost: string): string {
  const ip = isIP(localHost) === 6 ? 'IP6' : 'IP4';
  return (
    `v=0\r\no=ringproof 0 0 IN ${ip} ${localHost}\r\ns=-\r\nc=IN ${ip} ${localHost}\r\nt=0 0\r\n` +
    'm=audio 9 RTP/AVP 0 8\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\na=sendrecv\r\n'
  );
}

function head(method: string, uri: string, id: CallIdentity, branch: string, toValue: string, cseq: number, cseqMethod: string): string {
  return (
    `${method} ${uri} SIP/2.0\r\nVia: ${id.viaSentBy};branch=${branch};rport\r\nMax-Forwards: 70\r\n${id.routeLine}` +
    `From: ${id.from}\r\nTo: ${toValue}\r\nCall-ID: ${id.callId}\r\nCSeq: ${cseq} ${cseqMethod}\r\n`
  );
}

export function buildInvite(id: CallIdentity, branch: string, cseq: number, sdp: string | undefined, authLine: string): string {
  let out = head('INVITE', id.requestUri, id, branch, id.to, cseq, 'INVITE');
  out += `Contact: ${id.contact}\r\n`;
  if (id.pai !== undefined) out += `P-Asserted-Identity: ${id.pai}\r\n`;
  out += `Allow: ${ALLOW_UAC}\r\nUser-Agent: ringproof\r\n${authLine}`;
  if (sdp === undefined) return `${out}Content-Length: 0\r\n\r\n`;
  return `${out}Content-Type: application/sdp\r\nContent-Length: ${Buffer.byteLength(sdp, 'latin1')}\r\n\r\n${sdp}`;
}

/** The ACK of a non-2xx final response: part of the INVITE transaction (§17.1.1.3), same branch. */
export function buildNon2xxAck(id: CallIdentity, branch: string, cseq: number, toWithTag: string): string {
  return `${head('ACK', id.requestUri, id, branch, toWithTag, cseq, 'ACK')}Content-Length: 0\r\n\r\n`;
}

/** CANCEL (§9.1): the INVITE's Request-URI, Call-ID, From, To, Route, CSeq number and branch. */
export function buildCancel(id: CallIdentity, branch: string, cseq: number): string {
  return `${head('CANCEL', id.requestUri, id, branch, id.to, cseq, 'CANCEL')}Content-Length: 0\r\n\r\n`;
}

/** The dialog a 2xx created: remote target (Contact) and route set (Record-Route, reversed). */
export interface Dialog {
  remoteTarget: string;
  /** "Route: …\r\n" lines, or empty. */
  routeLines: string;
  toWithTag: string;
}

/** A request inside the dialog (ACK of the 2xx, BYE): its own transaction, a new branch. */
export function buildInDialog(id: CallIdentity, dialog: Dialog, method: 'ACK' | 'BYE', cseq: number): string {
  return (
    `${method} ${dialog.remoteTarget} SIP/2.0\r\nVia: ${id.viaSentBy};branch=${newBranch()};rport\r\nMax-Forwards: 70\r\n${dialog.routeLines}` +
    `From: ${id.from}\r\nTo: ${dialog.toWithTag}\r\nCall-ID: ${id.callId}\r\nCSeq: ${cseq} ${method}\r\nContent-Length: 0\r\n\r\n`
  );
}
