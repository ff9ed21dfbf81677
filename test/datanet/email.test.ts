import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeEncodedWords, decodeQuotedPrintable, htmlToText, parseEmail } from './helpers.js';

const CASES = join(__dirname, '../../../shared/cases');

describe('e-mail parsing', () => {
  it('decodes quoted-printable with soft line breaks in the declared charset', () => {
    expect(decodeQuotedPrintable('Caf=E9 cr=E8me=\nbr=FBl=E9e', 'iso-8859-1')).toBe('Café crèmebrûlée');
    expect(decodeQuotedPrintable('Caf=C3=A9', 'utf-8')).toBe('Café');
    expect(decodeQuotedPrintable('a=3Db', undefined)).toBe('a=b');
  });

  it('decodes RFC 2047 encoded words (Q and B), joining adjacent ones', () => {
    expect(decodeEncodedWords('=?iso-8859-1?Q?Caf=E9_au_lait?=')).toBe('Café au lait');
    // "Grüße" in UTF-8, base64: R3LDvMOfZQ==
    expect(decodeEncodedWords('=?UTF-8?B?R3LDvMOfZQ==?= =?UTF-8?Q?_aus_Wien?=')).toBe('Grüße aus Wien');
    expect(decodeEncodedWords('plain subject')).toBe('plain subject');
  });

  it('turns HTML into text', () => {
    expect(htmlToText('<html><head><title>x</title></head><body><p>Buy&nbsp;<b>now</b> &amp; save &#36;5<br>today</p><script>evil()</script></body></html>').replace(/\s+/g, ' ').trim()).toBe(
      'Buy now & save $5 today',
    );
  });

  it('parses headers, skips the mbox From line, unfolds and keeps the subject', async () => {
    const raw = [
      'From someone@example.com  Thu Aug 22 12:36:23 2002',
      'Return-Path: <a@b.c>',
      'Subject: A long',
      '\tfolded subject',
      'Content-Type: text/plain; charset="iso-8859-1"',
      'Content-Transfer-Encoding: quoted-printable',
      '',
      'Hello, na=EFve reader.   ',
      '',
      '',
      '',
      'Bye',
    ].join('\r\n');
    const email = await parseEmail(raw);
    expect(email.subject).toBe('A long folded subject');
    expect(email.headers.map(([n]) => n)).toEqual(['Return-Path', 'Subject', 'Content-Type', 'Content-Transfer-Encoding']);
    expect(email.body).toBe('Hello, naïve reader.\n\nBye');
    expect(email.rawHeaders.startsWith('Return-Path')).toBe(true);
  });

  it('prefers the plain part of multipart/alternative and decodes base64 parts', async () => {
    const raw = [
      'Subject: offer',
      'Content-Type: multipart/mixed; boundary="outer"',
      '',
      'preamble is ignored',
      '--outer',
      'Content-Type: multipart/alternative; boundary=inner',
      '',
      '--inner',
      'Content-Type: text/plain; charset=utf-8',
      'Content-Transfer-Encoding: base64',
      '',
      Buffer.from('Plain offer: 50% off').toString('base64'),
      '--inner',
      'Content-Type: text/html',
      '',
      '<p>HTML offer</p>',
      '--inner--',
      '--outer',
      'Content-Type: image/gif; name="x.gif"',
      'Content-Transfer-Encoding: base64',
      '',
      'R0lGODlhAQABAAAAACw=',
      '--outer',
      'Content-Type: text/plain',
      'Content-Disposition: attachment; filename="notes.txt"',
      '',
      'attached notes',
      '--outer--',
      'epilogue',
    ].join('\n');
    expect((await parseEmail(raw)).body).toBe('Plain offer: 50% off');
  });

  it('falls back to stripped HTML when there is no plain part', async () => {
    const raw = 'Subject: s\nContent-Type: text/html; charset=us-ascii\n\n<html><body>Click <a href="x">here</a></body></html>\n';
    expect((await parseEmail(raw)).body.replace(/\s+/g, ' ')).toBe('Click here');
  });

  it('treats a message without headers as a body', async () => {
    expect((await parseEmail('just some text\nmore')).body).toBe('just some text\nmore');
  });

  it('joins adjacent encoded words before decoding (a UTF-8 character split across two words) — cases/email/q-split.eml', async () => {
    const bytes = new Uint8Array(readFileSync(join(CASES, 'email/q-split.eml')));
    expect((await parseEmail(bytes)).subject).toBe('Café au lait');
    // The same split in base64 words, and in a Q word pair with other text around it.
    const b1 = Buffer.from([0x47, 0x72, 0xc3]).toString('base64'); // "Gr" + first byte of ü
    const b2 = Buffer.from([0xbc, 0xc3, 0x9f, 0x65]).toString('base64'); // second byte of ü, "ße"
    expect((await parseEmail(`Subject: =?utf-8?B?${b1}?=\n =?utf-8?B?${b2}?=\n\nx`)).subject).toBe('Grüße');
    expect((await parseEmail('Subject: Re: =?UTF-8?Q?na=C3?= =?UTF-8?Q?=AFve?= idea\n\nx')).subject).toBe('Re: naïve idea');
  });

  it('decodes windows-1252 and Latin-1 bodies from their bytes (curly quotes, accents, euro sign)', async () => {
    const head = (charset: string) => Buffer.from(`Subject: s\nContent-Type: text/plain; charset=${charset}\nContent-Transfer-Encoding: 8bit\n\n`, 'latin1');
    // windows-1252: 0x93/0x94 curly quotes, 0x80 euro sign, 0xE9 é.
    const cp1252 = Buffer.concat([head('windows-1252'), Buffer.from([0x93, 0x63, 0x61, 0x66, 0xe9, 0x94, 0x20, 0x80, 0x35, 0x0a])]);
    expect((await parseEmail(new Uint8Array(cp1252))).body).toBe('\u201Ccafé\u201D €5');
    const latin1 = Buffer.concat([head('iso-8859-1'), Buffer.from('cr\xe8me br\xfbl\xe9e\n', 'latin1')]);
    expect((await parseEmail(new Uint8Array(latin1))).body).toBe('crème brûlée');
    // Quoted-printable in KOI8-R (Cyrillic "привет"), a legacy charset outside Latin scripts.
    const koi = 'Subject: s\nContent-Type: text/plain; charset=koi8-r\nContent-Transfer-Encoding: quoted-printable\n\n=D0=D2=C9=D7=C5=D4\n';
    expect((await parseEmail(koi)).body).toBe('привет');
    // An encoded word in windows-1252 / Latin-1 (Node's own decoder returns C1 controls for 0x93/0x94).
    expect((await parseEmail('Subject: =?windows-1252?Q?=93hi=94_=80?=\n\nx')).subject).toBe('\u201Chi\u201D €');
    expect((await parseEmail('Subject: =?iso-8859-1?Q?Caf=E9?=\n\nx')).subject).toBe('Café');
  });

  it('reads raw 8-bit Latin-1 header bytes as windows-1252, never as U+FFFD', async () => {
    const raw = Buffer.concat([Buffer.from('Subject: caf', 'latin1'), Buffer.from([0xe9]), Buffer.from(' cr\xe8me\n\nbody\n', 'latin1')]);
    const email = await parseEmail(new Uint8Array(raw));
    expect(email.subject).toBe('café crème');
    expect(email.subject).not.toContain('\uFFFD');
  });

  it('a body with no declared charset whose bytes are not UTF-8 is read as windows-1252, not U+FFFD', async () => {
    const raw = Buffer.concat([Buffer.from('Subject: s\nContent-Type: text/plain\n\nna'), Buffer.from([0xef]), Buffer.from('ve \x93q\x94\n', 'latin1')]);
    expect((await parseEmail(new Uint8Array(raw))).body).toBe('naïve \u201Cq\u201D');
    const noType = Buffer.concat([Buffer.from('Subject: t\n\ncaf'), Buffer.from([0xe9]), Buffer.from('\n')]);
    expect((await parseEmail(new Uint8Array(noType))).body).toBe('café');
    // Valid UTF-8 without a declared charset is left as UTF-8.
    expect((await parseEmail('Subject: u\n\ncafé\n')).body).toBe('café');
  });

  it('two messages that differ only in one legacy-charset byte stay different', async () => {
    const mk = (b: number) => new Uint8Array(Buffer.concat([Buffer.from('Subject: s\nContent-Type: text/plain; charset=iso-8859-1\n\ncaf'), Buffer.from([b]), Buffer.from(' ok\n')]));
    const [a, b] = await Promise.all([parseEmail(mk(0xe9)), parseEmail(mk(0xe8))]);
    expect(a.body).toBe('café ok');
    expect(b.body).toBe('cafè ok');
  });

  it('strict decoding helpers refuse bytes that are not in the named charset', () => {
    expect(() => decodeQuotedPrintable('caf=E9', 'utf-8')).toThrow(expect.objectContaining({ code: 'DATANET_ENCODING_INVALID' }));
    expect(() => decodeQuotedPrintable('x=41', 'no-such-charset')).toThrow(/Unknown charset/);
  });
});
