/**
 * The few places the daemon must look inside NETCONF XML — the peer's <hello> (capabilities,
 * session-id), an <rpc-reply>'s message-id and <rpc-error>s, and the caller's RPC (one
 * operation, balanced, for the policy) — read by a small tag scanner. Replies are otherwise
 * passed through as text.
 *
 * WHY a scanner and not an XML parser: no XML parser is among the project's dependencies and
 * this worktree cannot add one (fast-xml-parser 5.12.1 would be the pick; see docs/operations.md,
 * "NETCONF"). The scanner is linear in the input (every loop advances with indexOf; no regular
 * expression runs on peer input), refuses DOCTYPE (no entity expansion, no external entities), and
 * only reads element names, one attribute and the text of leaf elements.
 */

export class XmlScanError extends Error {
  override readonly name = 'XmlScanError';
}

export interface Tag {
  kind: 'open' | 'close' | 'empty';
  /** Local name (prefix removed). */
  local: string;
  /** Raw attribute text of an open/empty tag. */
  attrs: string;
  /** Index just after the tag's '>'. */
  end: number;
  /** Index of the tag's '<'. */
  start: number;
}

/** Calls `visit` for every element tag in order; comments, PIs and CDATA are skipped. Return false to stop. */
export function scanTags(xml: string, visit: (tag: Tag) => boolean | void): void {
  let i = 0;
  for (;;) {
    const lt = xml.indexOf('<', i);
    if (lt < 0) return;
    if (xml.startsWith('<!--', lt)) {
      const e = xml.indexOf('-->', lt + 4);
      if (e < 0) throw new XmlScanError('unterminated comment');
      i = e + 3;
      continue;
    }
    if (xml.startsWith('<![CDATA[', lt)) {
      const e = xml.indexOf(']]>', lt + 9);
      if (e < 0) throw new XmlScanError('unterminated CDATA section');
      i = e + 3;
      continue;
    }
    if (xml.startsWith('<?', lt)) {
      const e = xml.indexOf('?>', lt + 2);
      if (e < 0) throw new XmlScanError('unterminated processing instruction');
      i = e + 2;
      continue;
    }
    if (xml.startsWith('<!', lt)) throw new XmlScanError('DOCTYPE and other declarations are not accepted');
    // Find the tag's end, skipping '>' inside quoted attribute values.
    let j = lt + 1;
    let quote = '';
    for (; j < xml.length; j++) {
      const c = xml[j];
      if (quote) {
        if (c === quote) quote = '';
      } else if (c === '"' || c === "'") {
        quote = c;
      } else if (c === '>') {
        break;
      } else if (c === '<') {
        throw new XmlScanError('"<" inside a tag');
      }
    }
    if (j >= xml.length) throw new XmlScanError('unterminated tag');
    const inner = xml.slice(lt + 1, j);
    const close = inner.startsWith('/');
    const empty = !close && inner.endsWith('/');
    const body = close ? inner.slice(1) : empty ? inner.slice(0, -1) : inner;
    const sp = body.search(/[\s]/);
    const qname = sp < 0 ? body : body.slice(0, sp);
    if (qname === '') throw new XmlScanError('a tag without a name');
    const colon = qname.indexOf(':');
    const tag: Tag = {
      kind: close ? 'close' : empty ? 'empty' : 'open',
      local: colon < 0 ? qname : qname.slice(colon + 1),
      attrs: sp < 0 ? '' : body.slice(sp),
      start: lt,
      end: j + 1,
    };
    i = j + 1;
    if (visit(tag) === false) return;
  }
}

/**
 * Local names of the top-level elements of an XML fragment (the caller's RPC), checking that
 * tags are balanced. Throws XmlScanError naming the problem.
 */
export function topLevelElements(xml: string): string[] {
  const names: string[] = [];
  const stack: string[] = [];
  let textOutside = false;
  let last = 0;
  const noteText = (from: number, to: number): void => {
    // Comments and PIs between elements are not text (scanTags already found each one terminated).
    if (stack.length === 0 && xml.slice(from, to).replace(/<!--[\s\S]*?-->|<\?[\s\S]*?\?>/g, '').trim() !== '') textOutside = true;
  };
  scanTags(xml, (tag) => {
    noteText(last, tag.start);
    last = tag.end;
    if (tag.kind === 'close') {
      const top = stack.pop();
      if (top !== tag.local) throw new XmlScanError(top === undefined ? `"</${tag.local}>" closes nothing` : `"</${tag.local}>" closes <${top}>`);
      return;
    }
    if (stack.length === 0) names.push(tag.local);
    if (tag.kind === 'open') stack.push(tag.local);
  });
  noteText(last, xml.length);
  if (stack.length > 0) throw new XmlScanError(`<${stack.at(-1) as string}> is not closed`);
  if (textOutside) throw new XmlScanError('text outside the operation element');
  return names;
}

const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

/** The five predefined entities and character references; others are left as they are. */
export function decodeText(s: string): string {
  if (!s.includes('&')) return s;
  return s.replace(/&(#x[0-9a-fA-F]{1,6}|#[0-9]{1,7}|[a-z]{2,4});/g, (m, e: string) => {
    if (e.startsWith('#x')) return safeChar(parseInt(e.slice(2), 16), m);
    if (e.startsWith('#')) return safeChar(parseInt(e.slice(1), 10), m);
    return ENTITIES[e] ?? m;
  });
}

function safeChar(cp: number, fallback: string): string {
  return cp > 0 && cp <= 0x10ffff ? String.fromCodePoint(cp) : fallback;
}

/** The value of attribute `name` (any prefix) in a tag's raw attribute text. */
export function attribute(attrs: string, name: string): string | undefined {
  let i = 0;
  while (i < attrs.length) {
    const eq = attrs.indexOf('=', i);
    if (eq < 0) return undefined;
    const key = attrs.slice(i, eq).trim();
    let j = eq + 1;
    while (j < attrs.length && /\s/.test(attrs[j] as string)) j++;
    const q = attrs[j];
    if (q !== '"' && q !== "'") return undefined;
    const close = attrs.indexOf(q, j + 1);
    if (close < 0) return undefined;
    const colon = key.indexOf(':');
    if ((colon < 0 ? key : key.slice(colon + 1)) === name && !key.startsWith('xmlns')) return decodeText(attrs.slice(j + 1, close));
    i = close + 1;
  }
  return undefined;
}

/** The text of leaf elements named `local` inside the element that begins at `from` (or the whole document). */
function leafTexts(xml: string, wanted: ReadonlySet<string>, onText: (local: string, text: string, depth: number) => void, onTag?: (tag: Tag, depth: number) => boolean | void): void {
  let depth = 0;
  let open: { local: string; end: number } | undefined;
  scanTags(xml, (tag) => {
    if (onTag && onTag(tag, depth) === false) return false;
    if (tag.kind === 'open') {
      depth++;
      open = wanted.has(tag.local) ? { local: tag.local, end: tag.end } : undefined;
    } else if (tag.kind === 'close') {
      if (open && open.local === tag.local) onText(tag.local, decodeText(xml.slice(open.end, tag.start)).trim(), depth);
      open = undefined;
      depth--;
    } else {
      if (wanted.has(tag.local)) onText(tag.local, '', depth + 1);
      open = undefined;
    }
    return true;
  });
}

export interface HelloInfo {
  capabilities: string[];
  /** The server's session-id; 0 when absent (a client hello). */
  sessionId: number;
}

/** Capabilities and session-id of a <hello>; XmlScanError when the message is not a hello. */
export function parseHello(xml: string): HelloInfo {
  const root = rootElement(xml);
  if (root?.local !== 'hello') throw new XmlScanError(`expected <hello>, got ${root ? `<${root.local}>` : 'no element'}`);
  const capabilities: string[] = [];
  let sessionId = 0;
  leafTexts(xml, new Set(['capability', 'session-id']), (local, text) => {
    if (local === 'capability' && text !== '') capabilities.push(text);
    else if (local === 'session-id' && /^[0-9]{1,10}$/.test(text)) sessionId = Number(text);
  });
  return { capabilities, sessionId };
}

/** The document's first element (its root). */
export function rootElement(xml: string): Tag | undefined {
  let root: Tag | undefined;
  scanTags(xml, (tag) => {
    root = tag;
    return false;
  });
  return root;
}

export interface RpcError {
  severity: string;
  tag: string;
  message: string;
}

/** Every <rpc-error> of a reply, with its severity, tag and message. */
export function rpcErrors(xml: string): RpcError[] {
  if (!xml.includes('rpc-error')) return [];
  const out: RpcError[] = [];
  let cur: RpcError | undefined;
  let curDepth = 0;
  leafTexts(
    xml,
    new Set(['error-severity', 'error-tag', 'error-message']),
    (local, text, depth) => {
      if (!cur || depth !== curDepth + 1) return;
      if (local === 'error-severity') cur.severity = text;
      else if (local === 'error-tag') cur.tag = text;
      else if (cur.message === '') cur.message = text;
    },
    (tag, depth) => {
      if (tag.local !== 'rpc-error') return;
      if (tag.kind === 'open') {
        cur = { severity: '', tag: '', message: '' };
        curDepth = depth + 1;
      } else if (tag.kind === 'close' && cur) {
        out.push(cur);
        cur = undefined;
      }
    },
  );
  return out;
}
