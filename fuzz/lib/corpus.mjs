/**
 * The fuzzer's seeds: the RFC 4475 torture messages (test/fixtures/rfc4475), every message the
 * SIPp scenarios send (sipp-scenarios/*.xml, keywords filled in), and INVITEs shaped like real
 * carriers' (P-Asserted-Identity, Remote-Party-ID, Identity, Diversion, tel URIs, IPv6 Vias, compact
 * forms, several Vias). Every address in them is loopback or a documentation name: ringproof answers
 * only to a request's source, and the fuzzer only ever sends to loopback.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const CRLF = '\r\n';

/** A request as bytes, with a correct Content-Length. */
export function sipRequest({ method, uri, headers, body = '' }) {
  const lines = [`${method} ${uri} SIP/2.0`, ...headers, `Content-Length: ${Buffer.byteLength(body)}`];
  return Buffer.from(lines.join(CRLF) + CRLF + CRLF + body, 'latin1');
}

const SDP = ['v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', 'm=audio 6000 RTP/AVP 0 8', 'a=rtpmap:0 PCMU/8000', ''].join(CRLF);

/** Carrier-style INVITEs: the shapes ringproof meets on real trunks. */
function carrierInvites(port) {
  const did = '+15550100001';
  const cli = '+15555550123';
  const base = (n, extra, opts = {}) => sipRequest({
    method: 'INVITE',
    uri: opts.uri ?? `sip:${did}@127.0.0.1:${port};user=phone`,
    headers: [
      ...(opts.vias ?? [`Via: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bK-carrier-${n};rport`]),
      'Max-Forwards: 69',
      opts.from ?? `From: <sip:${cli}@127.0.0.1;user=phone>;tag=c${n}`,
      opts.to ?? `To: <sip:${did}@127.0.0.1;user=phone>`,
      `Call-ID: carrier-${n}@127.0.0.1`,
      'CSeq: 101 INVITE',
      'Contact: <sip:gw@127.0.0.1:5999>',
      ...extra,
      'Content-Type: application/sdp',
    ],
    body: SDP,
  });
  return [
    base(1, [`P-Asserted-Identity: <sip:${cli}@127.0.0.1;user=phone>`, 'Privacy: none'], { from: 'From: "Anonymous" <sip:anonymous@anonymous.invalid>;tag=c1' }),
    base(2, [`P-Asserted-Identity: <tel:${cli}>`, `P-Asserted-Identity: <sip:${cli}@127.0.0.1;user=phone>`, 'Privacy: id']),
    base(3, [`Remote-Party-ID: "Caller" <sip:${cli}@127.0.0.1>;party=calling;screen=yes;privacy=off`]),
    base(4, [
      'Identity: eyJhbGciOiJFUzI1NiIsInBwdCI6InNoYWtlbiIsInR5cCI6InBhc3Nwb3J0IiwieDV1IjoiaHR0cHM6Ly9jZXJ0LmV4YW1wbGUvYS5wZW0ifQ' +
        '.eyJhdHRlc3QiOiJBIiwiZGVzdCI6eyJ0biI6WyIxNTU1MDEwMDAwMSJdfSwiaWF0IjoxNzAwMDAwMDAwLCJvcmlnIjp7InRuIjoiMTU1NTU1NTAxMjMifSwib3JpZ2lkIjoiMTIzIn0' +
        '.c2lnbmF0dXJlc2lnbmF0dXJlc2lnbmF0dXJlc2lnbmF0dXJlc2lnbmF0dXJl;info=<https://cert.example/a.pem>;alg=ES256;ppt=shaken',
      `P-Asserted-Identity: <sip:${cli}@127.0.0.1;user=phone>`,
    ]),
    base(5, [`Diversion: <sip:+15550109999@127.0.0.1;user=phone>;reason=unconditional;counter=1;privacy=off`,
      'History-Info: <sip:+15550109999@127.0.0.1>;index=1', `History-Info: <sip:${did}@127.0.0.1>;index=1.1`]),
    base(6, [], { uri: `tel:${did};phone-context=+1`, from: `From: <tel:${cli}>;tag=c6`, to: `To: <tel:${did}>` }),
    base(7, [`P-Asserted-Identity: <sip:${cli}@[::1];user=phone>`], {
      vias: ['Via: SIP/2.0/UDP [::1]:5999;branch=z9hG4bK-carrier-7a;rport', 'Via: SIP/2.0/TCP [2001:db8::10]:5060;branch=z9hG4bK-carrier-7b;received=[2001:db8::10]'],
    }),
    base(8, ['Supported: 100rel, timer, replaces', 'Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, PRACK, UPDATE',
      'Session-Expires: 1800;refresher=uac', 'P-Charging-Vector: icid-value=abc123;orig-ioi=carrier.example'], {
      vias: [
        'Via: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bK-carrier-8a;rport',
        'Via: SIP/2.0/UDP sbc1.carrier.example:5060;branch=z9hG4bK-carrier-8b;received=198.51.100.7',
        'Via: SIP/2.0/TLS core.carrier.example;branch=z9hG4bK-carrier-8c',
      ],
    }),
    // Compact forms, as some gateways send them.
    sipRequest({
      method: 'INVITE',
      uri: `sip:${did}@127.0.0.1:${port}`,
      headers: ['v: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bK-carrier-9', `f: <sip:${cli}@127.0.0.1>;tag=c9`, `t: <sip:${did}@127.0.0.1>`,
        'i: carrier-9@127.0.0.1', 'CSeq: 1 INVITE', 'm: <sip:gw@127.0.0.1:5999>', 'c: application/sdp', 'Max-Forwards: 70'],
      body: SDP,
    }),
  ];
}

/** SIPp keyword values that make a scenario's messages well-formed requests to `port`. */
function fillSippKeywords(text, port) {
  const values = {
    field0: '+15555550123', field1: '+15550100001', remote_ip: '127.0.0.1', remote_port: String(port), transport: 'UDP',
    local_ip: '127.0.0.1', local_port: '5999', local_ip_type: '4', media_ip: '127.0.0.1', media_ip_type: '4', media_port: '6000',
    pid: '4242', call_number: '1', call_id: '1-4242@127.0.0.1', cseq: '1', service: 'service', peer_tag_param: ';tag=peer1',
  };
  return text.replace(/\[([a-z_]+[0-9]*)(?:-\d+)?(?::[^\]]*)?\]/gi, (all, key) => {
    if (key === 'branch') return 'z9hG4bK-sipp-1';
    if (key === 'len') return all; // filled below, once the body is known
    if (key.startsWith('last_')) return `${key.slice(5)}: <sip:peer@127.0.0.1>;tag=peer1`;
    return values[key] ?? 'x';
  });
}

/** The messages of every <send> in the SIPp scenarios, as requests with CRLF line ends. */
function sippMessages(dir, port) {
  const out = [];
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.xml')).sort()) {
    const xml = readFileSync(join(dir, f), 'latin1');
    for (const m of xml.matchAll(/<send[^>]*>\s*<!\[CDATA\[([\s\S]*?)\]\]>/g)) {
      const lines = fillSippKeywords(m[1], port).split('\n').map((l) => l.trim());
      while (lines.length > 0 && lines[0] === '') lines.shift();
      const blank = lines.indexOf('');
      const head = blank === -1 ? lines : lines.slice(0, blank);
      const body = blank === -1 ? '' : lines.slice(blank + 1).join(CRLF).replace(/(\r\n)+$/, CRLF);
      const bodyText = body.trim() === '' ? '' : body;
      const filled = head.map((l) => l.replace('[len]', String(Buffer.byteLength(bodyText))));
      out.push(Buffer.from(filled.join(CRLF) + CRLF + CRLF + bodyText, 'latin1'));
    }
  }
  return out;
}

/** Every seed, as Buffers. */
export function loadSeeds({ root, port }) {
  const torture = join(root, 'test/fixtures/rfc4475');
  const seeds = readdirSync(torture).filter((n) => n.endsWith('.dat')).sort().map((n) => readFileSync(join(torture, n)));
  return { torture: seeds, sipp: sippMessages(join(root, 'sipp-scenarios'), port), carrier: carrierInvites(port) };
}

/** Words the mutator splices in: SIP's separators and the values parsers get wrong. */
export const DICTIONARY = [
  '\r\n', '\n', '\r', '\r\n\r\n', ' ', '\t', ':', ';', ',', '<', '>', '"', '\\', '%', '%00', '%0d%0a', '@', '[', ']', '=', '?', '&',
  'SIP/2.0', 'SIP/2.0/UDP ', 'SIP/2.0/TCP ', 'SIP/3.0', 'sip:', 'sips:', 'tel:', 'urn:', ';branch=z9hG4bK', ';branch=', ';tag=', ';rport',
  ';received=', ';maddr=127.0.0.1', ';user=phone', ';transport=tcp', ';phone-context=', '<sip:+15555550123@127.0.0.1>', '<tel:+15555550123>',
  'INVITE', 'ACK', 'OPTIONS', 'CANCEL', 'BYE', 'REGISTER', 'PRACK', 'UPDATE', 'NOTIFY', 'SUBSCRIBE', 'INFO', 'MESSAGE', 'REFER',
  'Via: ', 'v: ', 'From: ', 'f: ', 'To: ', 't: ', 'Call-ID: ', 'i: ', 'CSeq: ', 'Content-Length: ', 'l: ', 'Max-Forwards: ',
  'P-Asserted-Identity: ', 'Remote-Party-ID: ', 'Identity: ', 'Diversion: ', 'Privacy: id', 'Contact: *', 'Content-Type: ',
  'Content-Length: 0', 'Content-Length: -1', 'Content-Length: 4294967296', 'Content-Length: 99999999999999999999', 'Content-Length: 00000000001',
  'CSeq: 4294967296 INVITE', 'CSeq: -1 INVITE', 'CSeq: 1 ACK', 'Max-Forwards: 0', 'Max-Forwards: 256',
  '0', '-1', '65535', '65536', '4294967295', '4294967296', '1e308', 'NaN', '[::1]', '[::ffff:127.0.0.1]', '[2001:db8::1', '127.0.0.1:0',
  '127.0.0.1:99999', 'anonymous', 'Anonymous', '+', '++15555550123', '+1 (555) 555-0123', '\u0000', '\u00ff', '\u00c3\u00a9', '\u00e2\u0080\u00ae',
];
