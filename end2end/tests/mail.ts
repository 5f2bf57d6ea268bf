// The server under test has no SMTP server: it writes each message as an .eml file in <data dir>/mail.
// These helpers read them, as a person would read their inbox.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

export interface Mail {
  to: string;
  subject: string;
  text: string;
}

function decodeQuotedPrintable(raw: string): string {
  return raw
    .replace(/=\r?\n/g, '')
    .replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

function parse(raw: string): Mail {
  const header = (name: string) =>
    raw
      .split(/\r?\n/)
      .find((line) => line.startsWith(`${name}: `))
      ?.slice(name.length + 2)
      .trim() ?? '';
  return { to: header('To'), subject: header('Subject'), text: decodeQuotedPrintable(raw) };
}

/** Waits until `to` has at least `count` messages (whose subject contains `about`, if given); returns the newest. */
export async function newestMail(to: string, count: number, about = ''): Promise<Mail> {
  const dir = join(process.env.E2E_DATA_DIR ?? '', 'mail');
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    let files: string[] = [];
    try {
      files = readdirSync(dir).filter((f) => f.endsWith('.eml'));
    } catch {
      // no mail yet
    }
    const mails = files
      .map((f) => ({ at: statSync(join(dir, f)).mtimeMs, mail: parse(readFileSync(join(dir, f), 'utf8')) }))
      .filter(({ mail }) => mail.to.includes(to) && mail.subject.includes(about))
      .sort((a, b) => a.at - b.at);
    if (mails.length >= count) return mails[mails.length - 1].mail;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`fewer than ${count} messages to ${to} arrived`);
}

export function codeIn(mail: Mail): string {
  const match = `${mail.subject} ${mail.text}`.match(/\b(\d{6})\b/);
  if (!match) throw new Error(`no code in ${mail.text}`);
  return match[1];
}

export function linkIn(mail: Mail, path: string): string {
  const match = mail.text.match(new RegExp(`https?://[^\\s"<>]*${path}[^\\s"<>]+`));
  if (!match) throw new Error(`no ${path} link in ${mail.text}`);
  return match[0];
}
