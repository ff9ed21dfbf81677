import { describe, expect, it } from 'vitest';
import { decodeEncodedWords, decodeQuotedPrintable, htmlToText, parseEmail } from './helpers.js';

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

  it('parses headers, skips the mbox From line, unfolds and keeps the subject', () => {
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
    const email = parseEmail(raw);
    expect(email.subject).toBe('A long folded subject');
    expect(email.headers.map(([n]) => n)).toEqual(['Return-Path', 'Subject', 'Content-Type', 'Content-Transfer-Encoding']);
    expect(email.body).toBe('Hello, naïve reader.\n\nBye');
    expect(email.rawHeaders.startsWith('Return-Path')).toBe(true);
  });

  it('prefers the plain part of multipart/alternative and decodes base64 parts', () => {
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
    expect(parseEmail(raw).body).toBe('Plain offer: 50% off');
  });

  it('falls back to stripped HTML when there is no plain part', () => {
    const raw = 'Subject: s\nContent-Type: text/html; charset=us-ascii\n\n<html><body>Click <a href="x">here</a></body></html>\n';
    expect(parseEmail(raw).body.replace(/\s+/g, ' ')).toBe('Click here');
  });

  it('treats a message without headers as a body', () => {
    expect(parseEmail('just some text\nmore').body).toBe('just some text\nmore');
  });
});
