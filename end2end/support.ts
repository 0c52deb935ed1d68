// Helpers for account flows: TOTP codes (RFC 6238, computed like an authenticator app does) and
// reading the mail Candor wrote as .eml files into the test server's outbox.
import { createHmac } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

function base32Decode(input: string): Buffer {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const char of input.replace(/=+$/, "").toUpperCase()) {
    const value = alphabet.indexOf(char);
    if (value < 0) throw new Error(`not base32: ${char}`);
    bits += value.toString(2).padStart(5, "0");
  }
  const bytes = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) bytes.push(parseInt(bits.slice(i, i + 8), 2));
  return Buffer.from(bytes);
}

export function totp(secretBase32: string, atMs = Date.now()): string {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(atMs / 1000 / 30)));
  const hmac = createHmac("sha1", base32Decode(secretBase32)).update(counter).digest();
  const offset = hmac[hmac.length - 1] & 0xf;
  return ((hmac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).toString().padStart(6, "0");
}

/** The messages in the outbox, oldest first, with quoted-printable undone as a mail client would. */
export function outbox(dataDir: string): string[] {
  const dir = join(dataDir, "outbox");
  return readdirSync(dir)
    .filter((name) => name.endsWith(".eml"))
    .map((name) => join(dir, name))
    .sort((a, b) => statSync(a).mtimeMs - statSync(b).mtimeMs)
    .map((path) =>
      readFileSync(path, "utf8")
        .replace(/=\r?\n/g, "")
        .replace(/=([0-9A-F]{2})/g, (_, hex) => String.fromCharCode(parseInt(hex, 16))),
    );
}

/**
 * Waits until Candor's mail sender has delivered at least `count` messages that `pick` accepts,
 * and returns them (oldest first). Requests only queue mail; the sender delivers it moments later.
 */
export async function delivered(dataDir: string, pick: (message: string) => boolean, count = 1, timeoutMs = 20_000): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = outbox(dataDir).filter(pick);
    if (found.length >= count) return found;
    if (Date.now() > deadline) throw new Error(`expected ${count} delivered message(s), found ${found.length}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export function linkIn(message: string, path: string): string {
  const match = message.match(new RegExp(`https?://[^\\s]+${path}[^\\s]*`));
  if (!match) throw new Error(`no ${path} link in:\n${message}`);
  return match[0];
}
