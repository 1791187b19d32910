/**
 * The identity a verified client certificate asserts: the first URI SAN (SPIFFE IDs such as
 * spiffe://cluster.local/ns/billing/sa/billing-svc live there), else the first DNS SAN, else the
 * subject CN. Only called for certificates the TLS layer has verified against the client CA.
 */
import type { PeerCertificate } from 'node:tls';

/** Split Node's `subjectaltname` string ("DNS:a, URI:b, IP Address:c"); quoted values are JSON. */
export function parseSubjectAltNames(san: string | undefined): Array<{ type: string; value: string }> {
  if (!san) return [];
  const out: Array<{ type: string; value: string }> = [];
  // Node quotes a value (JSON string syntax) when it contains ", " or other special characters.
  const re = /(DNS|URI|IP Address|email|othername|DirName|Registered ID):("(?:[^"\\]|\\.)*"|[^,]*)(?:, |$)/g;
  for (const m of san.matchAll(re)) {
    let value = m[2] ?? '';
    if (value.startsWith('"')) {
      try {
        value = JSON.parse(value) as string;
      } catch {
        continue;
      }
    }
    out.push({ type: m[1]!, value });
  }
  return out;
}

export function certificateIdentity(cert: PeerCertificate): string | undefined {
  const sans = parseSubjectAltNames(cert.subjectaltname);
  const uri = sans.find((s) => s.type === 'URI' && s.value !== '');
  if (uri) return uri.value;
  const dns = sans.find((s) => s.type === 'DNS' && s.value !== '');
  if (dns) return dns.value;
  const cn = (cert.subject as unknown as Record<string, string | string[] | undefined> | undefined)?.['CN'];
  const first = Array.isArray(cn) ? cn[0] : cn;
  return first === undefined || first === '' ? undefined : first;
}
