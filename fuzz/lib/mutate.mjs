/**
 * Mutations in the manner of AFL's "havoc" stage: a seed gets a stack of 1-8 random mutations, some
 * blind (bit flips, interesting bytes, inserted, deleted, cloned and overwritten ranges, splices
 * with another seed) and some that know SIP's shape (a header line dropped, repeated hundreds of
 * times, swapped or given a dictionary value; Content-Length lying; line ends changed; folding; a
 * header grown to tens of kilobytes; a truncation). Blind mutations find what the parser's authors
 * did not think of, the structural ones get past the first check to the code behind it.
 */
import { DICTIONARY } from './corpus.mjs';

const INTERESTING = [0x00, 0x01, 0x09, 0x0a, 0x0d, 0x20, 0x22, 0x25, 0x2c, 0x3a, 0x3b, 0x3c, 0x3e, 0x40, 0x5b, 0x5c, 0x5d, 0x7f, 0x80, 0xc0, 0xff];
const DICT = DICTIONARY.map((w) => Buffer.from(w, 'latin1'));
/** UDP datagrams above this do not leave a loopback socket; the daemon drops anything above 8 KiB anyway. */
export const MAX_MESSAGE = 65_000;

const cat = (...parts) => Buffer.concat(parts);

function lines(buf) {
  const text = buf.toString('latin1');
  const end = text.indexOf('\r\n\r\n');
  const head = end === -1 ? text : text.slice(0, end);
  const body = end === -1 ? '' : text.slice(end);
  return { list: head.split('\r\n'), body };
}
const join = (list, body) => Buffer.from(list.join('\r\n') + body, 'latin1');

/** Each takes (buf, rng, seeds) and returns a new Buffer. */
const BLIND = [
  function flipBit(b, r) {
    if (b.length === 0) return b;
    const c = Buffer.from(b);
    const i = r.int(c.length);
    c[i] ^= 1 << r.int(8);
    return c;
  },
  function interestingByte(b, r) {
    if (b.length === 0) return b;
    const c = Buffer.from(b);
    c[r.int(c.length)] = r.pick(INTERESTING);
    return c;
  },
  function randomByte(b, r) {
    if (b.length === 0) return b;
    const c = Buffer.from(b);
    c[r.int(c.length)] = r.u32() & 0xff;
    return c;
  },
  function insertRandom(b, r) {
    const at = r.int(b.length + 1);
    return cat(b.subarray(0, at), r.bytes(r.size(512)), b.subarray(at));
  },
  function insertWord(b, r) {
    const at = r.int(b.length + 1);
    return cat(b.subarray(0, at), r.pick(DICT), b.subarray(at));
  },
  function overwriteWord(b, r) {
    const w = r.pick(DICT);
    const at = r.int(b.length + 1);
    return cat(b.subarray(0, at), w, b.subarray(Math.min(b.length, at + w.length)));
  },
  function deleteRange(b, r) {
    if (b.length < 2) return b;
    const at = r.int(b.length);
    return cat(b.subarray(0, at), b.subarray(Math.min(b.length, at + r.size(b.length - at))));
  },
  function cloneRange(b, r) {
    if (b.length === 0) return b;
    const from = r.int(b.length);
    const piece = b.subarray(from, from + r.size(b.length - from));
    const at = r.int(b.length + 1);
    const times = r.chance(0.9) ? 1 : r.range(2, 300);
    return cat(b.subarray(0, at), ...Array(times).fill(piece), b.subarray(at));
  },
  function spliceSeed(b, r, seeds) {
    const other = r.pick(seeds);
    const at = r.int(b.length + 1);
    const from = r.int(other.length + 1);
    return cat(b.subarray(0, at), other.subarray(from));
  },
  function truncate(b, r) {
    return b.subarray(0, r.int(b.length + 1));
  },
];

const STRUCTURAL = [
  function dropHeader(b, r) {
    const { list, body } = lines(b);
    if (list.length < 2) return b;
    list.splice(1 + r.int(list.length - 1), 1);
    return join(list, body);
  },
  function repeatHeader(b, r) {
    const { list, body } = lines(b);
    const i = r.int(list.length);
    const times = r.chance(0.7) ? r.range(1, 3) : r.range(10, 800);
    list.splice(i, 0, ...Array(times).fill(list[i]));
    return join(list, body);
  },
  function swapLines(b, r) {
    const { list, body } = lines(b);
    if (list.length < 2) return b;
    const i = r.int(list.length);
    const j = r.int(list.length);
    [list[i], list[j]] = [list[j], list[i]];
    return join(list, body);
  },
  function headerValue(b, r) {
    const { list, body } = lines(b);
    const i = r.int(list.length);
    const colon = list[i].indexOf(':');
    const value = r.chance(0.5) ? DICTIONARY[r.int(DICTIONARY.length)] : r.bytes(r.size(128)).toString('latin1');
    list[i] = colon === -1 ? value : `${list[i].slice(0, colon + 1)} ${value}`;
    return join(list, body);
  },
  function contentLength(b, r) {
    const { list, body } = lines(b);
    const v = r.pick(['0', '-1', '1', '7', '8192', '65536', '4294967296', '99999999999999999999', 'abc', '', ' 12 ', '0x10', '1.5', String(r.int(2000))]);
    const i = list.findIndex((l) => /^(content-length|l)\s*:/i.test(l));
    if (i === -1) list.push(`Content-Length: ${v}`);
    else list[i] = `${list[i].slice(0, list[i].indexOf(':') + 1)} ${v}`;
    return join(list, body);
  },
  function lineEnds(b, r) {
    const to = r.pick(['\n', '\r', '\r\r\n', '\n\r', '\r\n ', '\r\n\t', '\u0000\r\n']);
    const text = b.toString('latin1');
    return Buffer.from(r.chance(0.5) ? text.split('\r\n').join(to) : text.replace('\r\n', to), 'latin1');
  },
  function fold(b, r) {
    const { list, body } = lines(b);
    const i = 1 + r.int(Math.max(1, list.length - 1));
    if (!list[i]) return b;
    const cut = r.int(list[i].length + 1);
    list[i] = `${list[i].slice(0, cut)}\r\n${r.pick([' ', '\t', '  \t '])}${list[i].slice(cut)}`;
    return join(list, body);
  },
  function hugeValue(b, r) {
    const { list, body } = lines(b);
    const i = r.int(list.length);
    const unit = r.pick(['a', '%', ';x=y', ',', '<sip:a@b>', ' ', '9', '\u0000', 'é']);
    list[i] += unit.repeat(Math.ceil(r.pick([100, 1000, 4000, 8200, 9000, r.chance(0.2) ? 60000 : 2000]) / unit.length));
    return join(list, body);
  },
  function caseFlip(b, r) {
    const { list, body } = lines(b);
    const i = r.int(list.length);
    list[i] = r.chance(0.5) ? list[i].toUpperCase() : list[i].toLowerCase();
    return join(list, body);
  },
  function requestLine(b, r) {
    const { list, body } = lines(b);
    const parts = list[0].split(' ');
    const k = r.int(3);
    parts[k] = k === 0
      ? r.pick(['INVITE', 'ACK', 'OPTIONS', 'CANCEL', 'BYE', 'invite', 'INV ITE', 'X'.repeat(r.size(300)), ''])
      : k === 1 ? r.pick(['sip:+15550100001@127.0.0.1', 'tel:+15550100001', 'sip:', '<sip:a@b>', '*', 'sip:a@[::1', 'sip:%zz@h', ''])
        : r.pick(['SIP/2.0', 'SIP/2.1', 'SIP/20', 'sip/2.0', 'HTTP/1.1', '']);
    list[0] = parts.join(r.chance(0.9) ? ' ' : r.pick(['  ', '\t', '']));
    return join(list, body);
  },
];

/**
 * A new transaction and dialog most of the time (fresh branch, Call-ID and tag), so the daemon runs
 * its full INVITE path instead of absorbing a retransmission of an earlier message.
 */
function freshIds(b, rng) {
  const n = rng.u32().toString(36);
  const text = b.toString('latin1')
    .replace(/branch=z9hG4bK/i, `branch=z9hG4bK${n}.`)
    .replace(/^(Call-ID|i)[ \t]*:[ \t]*/im, (m) => `${m}${n}.`)
    .replace(/;tag=/i, `;tag=${n}.`);
  return Buffer.from(text, 'latin1');
}

/** A mutated copy of a random seed: 1 to 8 stacked mutations, at most MAX_MESSAGE bytes. */
export function mutate(rng, seeds) {
  let b = rng.pick(seeds);
  if (rng.chance(0.7)) b = freshIds(b, rng);
  const n = rng.chance(0.5) ? 1 : rng.range(2, 8);
  for (let i = 0; i < n; i++) {
    const op = rng.chance(0.45) ? rng.pick(STRUCTURAL) : rng.pick(BLIND);
    b = op(b, rng, seeds);
    if (b.length > MAX_MESSAGE) b = b.subarray(0, MAX_MESSAGE);
  }
  return b;
}
